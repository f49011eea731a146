"""autophagy: simulate and measure self-consuming generative-model training loops."""

__version__ = "0.1.0"
