"""darling: Diversity-Aware Reinforcement Learning for the Hugging Face ecosystem."""

__version__ = "0.1.0"
