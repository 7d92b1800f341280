"""specscope: does speculative decoding pay off on my hardware, for my model and traffic?"""

__version__ = "0.1.0"
