import pytest
import torch

from rnnlab.nn import native
from rnnlab.nn.native_bptt import NATIVE, REFERENCE


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def skip_without_native():
    """Skip (with the build error as the reason) where the native engine cannot be built; the
    test that it builds wherever there is a compiler is tests/nn/test_native.py."""
    if not native.available():
        pytest.skip(native.build_error())


@pytest.fixture(params=["rnnlab", "native"])
def engine(request):
    """Each layer and cell test runs on the reference engine and on the compiled one."""
    if request.param == "native":
        skip_without_native()
    return request.param


@pytest.fixture
def functions(engine):
    """The BPTT Functions of ``engine``: {"rnn": ..., "lstm": ..., "gru": ...}."""
    return NATIVE if engine == "native" else REFERENCE
