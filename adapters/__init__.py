"""The outside world, translated: chat platforms, e-mail, SMS, storage and gateways."""
