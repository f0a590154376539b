"""rnnlab: recurrent sequence models with hand-written BPTT, and the task pipelines built on them.

import rnnlab.nn as rnn          # RNN, LSTM, GRU and their cells, drop-in for torch.nn's
model = rnnlab.load("runs/sst2") # a trained model directory, on CPU
"""

from rnnlab._version import __version__
from rnnlab.errors import InputError, UserError

__all__ = ["InputError", "UserError", "__version__", "load"]


def load(path, device="cpu"):
    """Restore a saved model directory (config.json, its vocabularies, model.safetensors) on
    ``device``: the TextClassifier, LanguageModel, SequenceTagger, Seq2Seq, SpeechModel or
    MusicModel that config.json's ``task`` names.

    See :func:`rnnlab.saved.load`.
    """
    from rnnlab.saved import load as _load

    return _load(path, device)
