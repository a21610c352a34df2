"""Calling large language models: one provider layer for every feature that needs one.

The RC analysis (``projects.rc``) and the generation of memoir sections use it the same
way::

    from llm.client import LLMClient
    from llm.config import ProviderConfig

    client = LLMClient(ProviderConfig.from_settings())
    result = client.complete("…", system="…")                  # text, tokens, cost, model
    result = client.complete_json("…", schema={...})           # + ``data``, validated

Two wire protocols cover the providers users run: Anthropic's Messages API and the
OpenAI chat-completions API, which OpenAI, Mistral, vLLM, Ollama and LM Studio all speak.
Everything is configured from the environment (``LLM_*`` settings); nothing here calls
a provider unless one is configured, and the tests talk to fake servers on 127.0.0.1.
"""
