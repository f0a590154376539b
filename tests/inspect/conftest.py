import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    """A fixed seed (one torch thread comes from tests/conftest.py)."""
    torch.manual_seed(0)
