"""Progress bars name what they run (issue 25): the item shown after the count, total and ETA."""
import io

from tqdm import tqdm

from hpo_kit.progress import progress, show_item


def test_a_bar_names_the_item_it_just_finished():
    out = io.StringIO()
    bar = tqdm(total=3, desc="runs (method x task x seed)", file=out, mininterval=0, ascii=True)
    show_item(bar, "last: gp on xgb_wine, seed 2")
    bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "gp on xgb_wine, seed 2" in text and "1/3" in text


def test_show_item_ignores_what_is_not_a_bar():
    show_item([1, 2, 3], "x")   # a caller's own wrapper returned a plain iterable
    show_item(None, "x")


def test_batch_bars_are_plain_text_on_stdout(monkeypatch, capsys):
    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    bar = progress(total=2, desc="runs")
    show_item(bar, "last: random on table_hpobench_car, seed 0")
    bar.update(2)
    bar.close()
    assert "table_hpobench_car" in capsys.readouterr().out


def test_a_labelled_loop_names_the_item_being_run(monkeypatch, capsys):
    """Notebook loops (nb00 search seeds, nb01 method x seed, retraining) name each item on the bar."""
    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    items = [(0, "trl_hpo_fixed"), (0, "random")]
    bar = progress(items, desc="method x seed", label=lambda sm: f"{sm[1]}, seed {sm[0]}")
    assert len(bar) == 2
    seen = []
    for item in bar:
        seen.append(item)
        bar.refresh()  # batch bars print every 10 s; force one line per item here
    bar.close()
    out = capsys.readouterr().out
    assert seen == items
    assert "now: trl_hpo_fixed, seed 0" in out and "now: random, seed 0" in out and "2/2" in out


def test_naming_labels_bars_opened_inside_it_and_fills_an_unknown_total(monkeypatch, capsys):
    """The engine's bar inside run_hpo knows neither method nor seed; the caller names it (issue 25)."""
    from hpo_kit.progress import naming

    monkeypatch.setenv("HPO_KIT_BATCH", "1")
    with naming("bohb, seed 3", total=13):
        bar = progress(desc="HPO", unit="eval")
        kept = progress(desc="HPO", total=5)
    outside = progress(desc="HPO")
    assert bar.total == 13 and kept.total == 5 and outside.total is None
    bar.update(2)
    for b in (bar, kept, outside):
        b.refresh()
        b.close()
    out = capsys.readouterr().out
    assert "HPO: bohb, seed 3" in out and "2/13" in out
