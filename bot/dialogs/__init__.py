"""The dialogs of the conversation, one module each: status, claim wizard, progress, questions,
HR's and finance's work, and account settings."""
