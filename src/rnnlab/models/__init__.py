"""Task models: sequence classifiers (``rnnlab.models.classifier``) and language models.

>>> from rnnlab.models import LanguageModel, LMConfig
"""

from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig, Translation
from rnnlab.models.tagger import SequenceTagger, TaggerConfig

__all__ = ["LMConfig", "LanguageModel", "SequenceTagger", "TaggerConfig", "TextFormat"]
__all__ += ["Seq2Seq", "Seq2SeqConfig", "Translation"]
