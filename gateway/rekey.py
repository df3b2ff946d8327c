"""`python -m gateway.rekey`: the gateway's secrets at rest (ID numbers of permission applications, second-factor
secrets) encrypted again under the current key, after FUNDWATCH_PII_CURRENT_KEY changed."""

from backbone.rekey import run
from gateway.applications.projections import id_numbers
from gateway.projections import credentials

if __name__ == "__main__":
    run([(id_numbers, id_numbers.c.application_id, [id_numbers.c.id_cipher]),
         (credentials, credentials.c.username, [credentials.c.totp_cipher, credentials.c.totp_pending_cipher])])
