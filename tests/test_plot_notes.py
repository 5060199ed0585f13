"""plot_runs names runs evaluated at different sizes, and every curve ticks whole epochs."""

from __future__ import annotations

import json

from bigan_tf.plots import evaluation_note


def _run(folder, evaluation, epochs=(0, 1, 2)):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"evaluation": evaluation}))
    (folder / "metrics.jsonl").write_text(
        "".join(
            json.dumps({"epoch": e, "metrics": {"NNC_e-": 90.0 + e, "CLS_e-": 80.0 + e}}) + "\n"
            for e in epochs
        )
    )
    return str(folder)


def test_runs_evaluated_alike_get_no_note(tmp_path):
    runs = [_run(tmp_path / "a", {"num_val": 10000}), _run(tmp_path / "b", {"num_val": 10000})]
    assert evaluation_note(runs, ["a", "b"]) == ""


def test_runs_evaluated_at_different_sizes_are_named(tmp_path):
    runs = [
        _run(tmp_path / "a", {"num_val": 10000, "deploy_iters": 0}),
        _run(tmp_path / "b", {"num_val": 10000, "deploy_iters": 0}),
        _run(tmp_path / "c", {"num_val": 500, "deploy_iters": 0}),
    ]
    note = evaluation_note(runs, ["A", "B", "C"])
    assert note.endswith("num_val 10000 (A, B) vs 500 (C).")
    assert "deploy_iters" not in note


def test_curves_tick_whole_epochs_and_carry_the_note(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from bigan_tf import plots

    records = [{"epoch": e, "metrics": {"NNC_e-": 90.0 + e}} for e in (0, 1, 2)]
    figures = []
    save = plots._save
    plots._save = lambda figure, path: figures.append(figure) or path
    try:
        plots.plot_groups({"a": [records]}, str(tmp_path / "x.png"), note="a note")
        plots.plot_learning_curves(records, str(tmp_path / "y.png"))
    finally:
        plots._save = save
    for figure in figures:
        for axis in figure.axes:
            if axis.get_visible():
                ticks = [t for t in axis.get_xticks() if 0 <= t <= 2]
                assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert any(text.get_text() == "a note" for text in figures[0].texts)


def test_sample_grid_captions_name_the_model_epoch_task_and_seed():
    from bigan_tf.sampling_tasks import caption_line

    assert (
        caption_line("exp/mnist_bigan/", 12, "random", 3) == "mnist_bigan, epoch 12: random, seed 3"
    )
    assert (
        caption_line("exports/enc", None, "style_sweep", 0) == "enc (export): style_sweep, seed 0"
    )
