"""`python -m services.payments.rekey`: the payments service's personal data (ID numbers of the registries
and of payees) encrypted again under the current key, after FUNDWATCH_PII_CURRENT_KEY changed."""

from backbone.rekey import run
from services.payments.projections import personal_data

if __name__ == "__main__":
    run([(personal_data, personal_data.c.blind_index, [personal_data.c.cipher])])
