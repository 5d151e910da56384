"""stormwatch: protect generative-AI accounts from credential theft and abuse (LLMjacking)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
