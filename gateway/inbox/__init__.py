"""待办: what waits for the signed-in person, assembled by the gateway from every service in the caller's scope."""
