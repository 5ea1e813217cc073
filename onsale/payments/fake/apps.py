from django.apps import AppConfig


class FakePaymentsConfig(AppConfig):
    """The built-in fake payment provider and its ledger tables. Installed
    only when settings.PAYMENT_GATEWAY is "fake" (development, tests, load
    tests), so a production database with a real provider never migrates
    them."""

    name = "onsale.payments.fake"
    label = "payments_fake"
