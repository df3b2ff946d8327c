"""The audit trail of the gateway (审计日志; 第二十八条, 第二十九条; 等级保护 2.0 三级 安全审计): a tamper-evident,
append-only record of every write, sign-in, export and read of unmasked personal data.

Rooms: `chain` (the hash chain and its verification, pure), `trail` (the table and its writer),
`recording` (the middleware that decides what is recorded), `consumers` (reads reported by
services as events), `api` (search and verification), `python -m gateway.audit verify`.
"""
