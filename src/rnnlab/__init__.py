"""rnnlab: recurrent sequence models with hand-written BPTT."""
__version__ = "0.1.0"
