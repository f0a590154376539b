"""Task models: sequence classifiers (``rnnlab.models.classifier``) and language models.

>>> from rnnlab.models import LanguageModel, LMConfig
"""

from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat

__all__ = ["LMConfig", "LanguageModel", "TextFormat"]
