"""Transport-agnostic core: settings, signers, one module per OpenAI route, errors."""
