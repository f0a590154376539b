"""Task models: sequence classifiers (``rnnlab.models.classifier``), language models (the network
in ``lm_network``, texts in ``language_model``), taggers, translators, speech and music models. Each
saved kind has a ``task`` name and ``to_saved``/``from_saved`` (``rnnlab.saved.MODELS``).

>>> from rnnlab.models import LanguageModel, LMConfig
"""

from rnnlab.models.classifier import TextClassifier
from rnnlab.models.forecast import ForecastConfig, Forecaster
from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
from rnnlab.models.lm_network import LMNetwork
from rnnlab.models.music import MusicConfig, MusicModel
from rnnlab.models.seq2seq import DEFAULT_ALPHA, Seq2Seq, Seq2SeqConfig, Translation
from rnnlab.models.speech import SpeechConfig, SpeechModel, Transcription
from rnnlab.models.tagger import SequenceTagger, TaggerConfig

__all__ = ["LMConfig", "LMNetwork", "LanguageModel", "SequenceTagger", "TaggerConfig"]
__all__ += ["DEFAULT_ALPHA", "Seq2Seq", "Seq2SeqConfig", "TextClassifier", "TextFormat"]
__all__ += ["MusicConfig", "MusicModel", "SpeechConfig", "SpeechModel", "Transcription"]
__all__ += ["Translation"]
__all__ += ["ForecastConfig", "Forecaster"]
