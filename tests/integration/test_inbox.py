from core.services.inbox import first_delivery


def test_inbox(ctx):
    assert first_delivery(ctx, "slack", "Ev1")
    assert not first_delivery(ctx, "slack", "Ev1")
    assert first_delivery(ctx, "telegram", "Ev1")
