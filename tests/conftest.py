import pytest

from assistant import ROOT


@pytest.fixture(scope="session")
def vosk_model_dir(tmp_path_factory):
    """The real Mandarin vosk model, installed from shared/models by our own install code (once per run)."""
    from assistant.recognition.install import install_from_zip
    from assistant.recognition.model import MODEL_NAME, ZIP_NAME

    zip_path = ROOT.parent / "shared" / "models" / ZIP_NAME
    if not zip_path.is_file():
        pytest.skip(f"vosk model zip not found at {zip_path} (shared/ is not beside the checkout)")
    return install_from_zip(zip_path, tmp_path_factory.mktemp("vosk") / MODEL_NAME)


@pytest.fixture(scope="module")
def flows():
    """The project's flows/, loaded once per test module."""
    from assistant.flows import load_flows

    return load_flows()


@pytest.fixture(scope="module")
def understander(flows):
    """The understanding model for flows/ (trained once into the user cache, then loaded)."""
    from assistant.understanding import Understander

    return Understander(flows)
