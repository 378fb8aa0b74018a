"""Customer engines behind one interface: scripted (offline) and llm (OpenAI-compatible)."""
