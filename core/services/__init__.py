"""Use cases: each a short function over one unit of work, called by the bot and the CLI."""
