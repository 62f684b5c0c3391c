"""The bot: conversation, i18n, composition root, CLI, web app and worker wiring."""
