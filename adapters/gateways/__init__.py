"""Gateways to the social insurance bureau and the bank, behind the ports in ``core.ports``.

``http`` talks to the real services over a small JSON-over-HTTPS contract, retrying safely with
an idempotency key; ``sandbox`` accepts everything in memory, for the demo and for people trying
hrbot without a bureau connection. ``bot`` chooses which one to wire in.
"""

from adapters.gateways.http import HttpPaymentGateway, HttpSocialInsuranceGateway
from adapters.gateways.sandbox import SandboxGateway

__all__ = ["HttpPaymentGateway", "HttpSocialInsuranceGateway", "SandboxGateway"]
