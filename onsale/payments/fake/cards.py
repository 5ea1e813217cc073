"""The fake provider's test cards, as a provider's test mode documents them.

Kept apart from the gateway (which needs the fake's models, so its app
installed) so that pages offering the test cards import them with any
provider configured.
"""

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
TIMEOUT_CARD = "4000000000000408"
