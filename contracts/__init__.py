"""The shared language of FundWatch: the event envelope, value types and the event models of
every bounded context. JSON Schema snapshots of these models live in `contracts/schemas/`."""
