"""One order for finding data: --data_dir, $BIGAN_TF_DATA, the model's folder, ../shared."""

import pytest

from bigan_tf.errors import DataError
from trainers import data_paths
from trainers.data_paths import DATA_ENV, find_data_dir


def _idx_folder(path):
    path.mkdir(parents=True)
    (path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    return str(path)


@pytest.fixture
def no_shared(tmp_path, monkeypatch):
    """A checkout without ../shared, and no environment variable."""
    monkeypatch.setattr(data_paths, "shared_data_dir", lambda name: str(tmp_path / "no" / name))
    monkeypatch.delenv(DATA_ENV, raising=False)


def test_the_order_of_the_places_looked_in(tmp_path, monkeypatch, no_shared):
    shared = _idx_folder(tmp_path / "shared" / "mnist")
    monkeypatch.setattr(data_paths, "shared_data_dir", lambda name: str(tmp_path / "shared" / name))
    recorded = _idx_folder(tmp_path / "recorded")
    env_root = tmp_path / "env"
    assert find_data_dir("mnist") == shared
    assert find_data_dir("mnist", recorded_root=recorded) == recorded
    monkeypatch.setenv(DATA_ENV, str(env_root))
    by_name = _idx_folder(env_root / "mnist")
    assert find_data_dir("mnist", recorded_root=recorded) == by_name
    assert find_data_dir("mnist", "/given/as/is", recorded) == "/given/as/is"
    # $BIGAN_TF_DATA may also be the folder of the files itself.
    monkeypatch.setenv(DATA_ENV, _idx_folder(tmp_path / "flat"))
    assert find_data_dir("fashion_mnist") == str(tmp_path / "flat")


def test_nothing_found_lists_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch, no_shared):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "env"))
    with pytest.raises(DataError) as error:
        find_data_dir("mnist", recorded_root=str(tmp_path / "gone"))
    message = str(error.value)
    for place in (
        tmp_path / "env" / "mnist",
        tmp_path / "env",
        tmp_path / "gone",
        tmp_path / "no" / "mnist",
    ):
        assert str(place) in message
    assert "train-images-idx3-ubyte.gz" in message and "tfds:mnist" in message


def test_other_sources_keep_their_own_default(no_shared):
    assert find_data_dir("tfds:mnist") is None
