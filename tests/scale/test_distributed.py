"""The distributed functions return exactly what the one-process functions return.

One LocalCluster of two single-threaded worker processes serves the whole module. Inputs
are small but built to cross partition and shuffle-range boundaries: the de-duplication
runs on 5 ranges with a window of 10, so pairs span ranges; segments are cut into several
partitions. Skipped when the ``dask`` extra is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import toolkit as tk  # noqa: E402
from toolkit import agreement, coding, scale  # noqa: E402
from toolkit import triangulation as tri  # noqa: E402
from toolkit.codebook import load_codebook  # noqa: E402
from toolkit.errors import CodingError, ToolkitError  # noqa: E402
from toolkit.paths import bundled_codebook_path, bundled_codings_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        # Each worker imports the topic and coding modules (BERTopic alone takes about 20 s
        # on a busy two-core machine) while the client computes the one-process results.
        warm = [c.submit(_warm, k, pure=False, workers=[w])
                for k, w in enumerate(c.scheduler_info()["workers"])]
        yield c
        del warm


def _warm(_: int) -> None:
    import toolkit.coding.rules  # noqa: F401
    import toolkit.topics.model  # noqa: F401


def _assert_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


# --- load -----------------------------------------------------------------------------

PATHS = [ROOT / "tests" / "data" / "corpus", ROOT / "corpus" / "examples"]


def test_load_corpus_same_records_failures_and_accounting(client) -> None:
    one = tk.load_corpus(PATHS)
    loaded = scale.load_corpus_distributed(PATHS, client=client)
    assert loaded.records.npartitions == len(one.blocks)  # one task, one partition per file
    assert dict(loaded.records.dtypes) == dict(one.records.dtypes)
    many = loaded.compute()
    _assert_frames(many.records, one.records)
    assert many.failures == one.failures and len(one.failures) > 5
    assert [f.line for f in many.failures] == [f.line for f in one.failures]
    assert many.warnings == one.warnings
    assert any(w.kind == "duplicate_key" for w in one.warnings)
    _assert_frames(many.blocks, one.blocks)
    assert many.generated_ids == one.generated_ids and many.skipped == one.skipped


def test_load_corpus_bibtex_files_one_by_one(client) -> None:
    one = tk.load_corpus(PATHS, bibtex_together=False)
    many = scale.load_corpus_distributed(PATHS, client=client, bibtex_together=False)
    _assert_frames(many.compute().records, one.records)
    assert many.warnings == one.warnings


# --- de-duplication -------------------------------------------------------------------

@pytest.fixture(scope="module")
def benchmark_records() -> pd.DataFrame:
    """Realistic duplicates (bench/dedupe_data.py) of the records a fresh clone holds."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from dedupe_data import _from_records, make_benchmark
    finally:
        sys.path.remove(str(ROOT / "bench"))
    base = pd.concat([tk.load_review().records, tk.load_corpus(PATHS).records],
                     ignore_index=True)
    base = base[base["title"].notna() & (base["authors"].map(len) > 0)]
    pool = _from_records(base, "ci").drop_duplicates("title").reset_index(drop=True)
    pool["doi"] = pool["doi"].astype(object).where(pool["doi"].notna(), None)
    records, _ = make_benchmark(pool, n_works=len(pool), mean_copies=2.5, random_state=0)
    return records


def _assert_dedup(distributed, b) -> None:
    assert isinstance(distributed, scale.DistributedDedup)
    a = distributed.compute()
    for name in ("records", "log", "pairs", "uncertain", "sources"):
        _assert_frames(getattr(a, name), getattr(b, name))
    assert a.stats == b.stats


def test_deduplicate_same_merge_log(client, benchmark_records) -> None:
    one = tk.deduplicate(benchmark_records)
    many = scale.deduplicate_distributed(benchmark_records, client=client, npartitions=5)
    assert len(one.log) > 50 and len(one.uncertain) > 0  # a real test of the merges
    _assert_dedup(many, one)


def test_deduplicate_ties_across_ranges_and_a_person_s_decisions(client,
                                                                 benchmark_records) -> None:
    records = benchmark_records.copy()
    records.loc[::3, "title"] = "Effects of exercise on depression in older adults"
    records.loc[::4, "year"] = pd.NA
    ids = records["record_id"].tolist()
    decisions = pd.DataFrame({"record_id_1": [ids[0], ids[5], ids[7]],
                              "record_id_2": [ids[-1], ids[6], ids[40]],
                              "decision": ["keep apart", "merge", "merge"]})
    one = tk.deduplicate(records, decisions=decisions, window=4)
    many = scale.deduplicate_distributed(records, client=client, decisions=decisions,
                                         window=4, npartitions=7)
    _assert_dedup(many, one)


def test_deduplicate_a_person_keeps_apart_what_the_rules_merge(client,
                                                               benchmark_records) -> None:
    # Keep-apart decisions inside groups the rules link (so the bucket that joins the group
    # must apply them), and a merge of two works no rule links.
    plain = tk.deduplicate(benchmark_records)
    log = plain.log
    apart = log.drop_duplicates("kept_id").head(3)
    works = plain.records["record_id"].tolist()
    decisions = pd.DataFrame({
        "record_id_1": [*apart["kept_id"], works[0]],
        "record_id_2": [*apart["removed_id"], works[1]],
        "decision": ["keep apart"] * len(apart) + ["merge"]})
    one = tk.deduplicate(benchmark_records, decisions=decisions)
    assert one.stats["works"] == plain.stats["works"] + len(apart) - 1
    many = scale.deduplicate_distributed(benchmark_records, client=client,
                                         decisions=decisions, npartitions=4)
    assert hasattr(many.records, "dask") and hasattr(many.pairs, "dask")  # on the cluster
    _assert_dedup(many, one)
    a, b = apart["kept_id"].iloc[0], apart["removed_id"].iloc[0]
    x = next(w for w in works if w not in (a, b))
    contradiction = pd.DataFrame({"record_id_1": [a, a, x], "record_id_2": [b, x, b],
                                  "decision": ["keep apart", "merge", "merge"]})
    with pytest.raises(ToolkitError, match="both merge and keep apart") as one_err:
        tk.deduplicate(benchmark_records, decisions=contradiction)
    with pytest.raises(ToolkitError, match="both merge and keep apart") as many_err:
        scale.deduplicate_distributed(benchmark_records, client=client,
                                      decisions=contradiction)
    assert str(many_err.value) == str(one_err.value)


def test_deduplicate_checks_the_ids_of_a_dask_table(client, benchmark_records) -> None:
    import dask.dataframe as dd

    repeated = benchmark_records.copy()
    repeated.loc[200, "record_id"] = repeated.loc[3, "record_id"]
    missing = benchmark_records.astype({"record_id": object}).copy()
    missing.loc[5, "record_id"] = None
    with scale.dataframe_config():
        repeated, missing = (dd.from_pandas(f, npartitions=3) for f in (repeated, missing))
    with pytest.raises(ToolkitError, match="record_id values repeat"):
        scale.deduplicate_distributed(repeated, client=client)
    with pytest.raises(ToolkitError, match="some record_id values are missing"):
        scale.deduplicate_distributed(missing, client=client)


def test_deduplicate_refuses_authors_dask_turned_into_text(client, benchmark_records) -> None:
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": True}):
        texts = dd.from_pandas(benchmark_records, npartitions=2)
    with pytest.raises(ToolkitError, match=r"\['authors'.*dataframe_config"):
        scale.deduplicate_distributed(texts, client=client)


def test_deduplicate_a_dask_records_table(client) -> None:
    loaded = scale.load_corpus_distributed(PATHS, client=client)
    one = tk.deduplicate(tk.load_corpus(PATHS).records)
    _assert_dedup(scale.deduplicate_distributed(loaded.records, client=client), one)


# --- rule coding and the tables -------------------------------------------------------

@pytest.fixture(scope="module")
def book():
    return load_codebook(bundled_codebook_path())


@pytest.fixture(scope="module")
def segments() -> pd.DataFrame:
    review = tk.load_review()
    real = coding.segments_from_review(review)
    words = np.array(" ".join(real["text"]).split())
    rng = np.random.default_rng(0)
    made = [" ".join(words[rng.integers(0, len(words), 30)]) for _ in range(1200)]
    extra = pd.DataFrame({"segment_id": [f"syn{i:05d}" for i in range(len(made))],
                          "text": made})
    return pd.concat([real[["segment_id", "text"]], extra], ignore_index=True).astype(
        {"segment_id": "string", "text": "string"})


@pytest.fixture(scope="module")
def rules(book, segments) -> pd.DataFrame:
    return coding.RuleCoder(book).fit().transform(segments)


def test_rule_coding_same_codings(client, book, segments, rules) -> None:
    coder = coding.RuleCoder(book)
    _assert_frames(scale.code_distributed(coder, segments, client=client, npartitions=6),
                   rules)
    import dask.dataframe as dd

    lazy = scale.code_distributed(coder, dd.from_pandas(segments, npartitions=5),
                                  client=client)
    _assert_frames(lazy.compute().reset_index(drop=True), rules)


def _described(segments: pd.DataFrame) -> pd.DataFrame:
    """The segments with documents and cited works (the synthetic ones get made-up ones)."""
    review = tk.load_review()
    real = coding.segments_from_review(review).set_index("segment_id")
    keys = review.records["record_id"].tolist()
    rng = np.random.default_rng(1)
    out = segments[["segment_id"]].copy()
    out["document_id"] = [real["document_id"].get(s, f"doc{i % 37}")
                          for i, s in enumerate(out["segment_id"])]
    out["section"] = [None if i % 11 == 0 else str(i % 4) for i in range(len(out))]
    out["cited_keys"] = [real["cited_keys"].get(s, tuple(rng.choice(keys, i % 3,
                                                                     replace=False)))
                         for i, s in enumerate(out["segment_id"])]
    return out.iloc[: len(out) - 40]  # the last 40 segments are not described


def test_frequency_and_cooccurrence_tables(client, book, segments, rules) -> None:
    import dask
    import dask.dataframe as dd

    review = tk.load_review()
    described = _described(segments)
    lazy = scale.code_distributed(coding.RuleCoder(book), dd.from_pandas(segments,
                                                                         npartitions=4))
    shuffled = dd.from_pandas(rules.sample(frac=1.0, random_state=0), npartitions=5)
    cases = [dict(level="code"), dict(level="theme"),
             dict(level="code", segments=described),
             dict(level="theme", segments=described, records=review.records,
                  by="source_group"),
             dict(level="code", segments=described, by="section")]
    for case in cases:
        freq = coding.compute_code_frequencies(rules, book, **case)
        if "segments" in case and "by" not in case:
            assert freq["documents"].sum() > 50 and freq["works"].sum() > 50
        if "by" in case:
            assert freq.shape[1] > 2 and freq.to_numpy().sum() > 100
        for table, whole in ((lazy, True), (shuffled, False)):
            _assert_frames(scale.compute_code_frequencies_distributed(
                table, book, whole_segments=whole, **case), freq)
        if "segments" in case:  # the segments as a Dask table too
            with dask.config.set({"dataframe.convert-string": False}):  # tuples stay tuples
                spread = dict(case, segments=dd.from_pandas(case["segments"], npartitions=3))
            _assert_frames(scale.compute_code_frequencies_distributed(
                shuffled, book, **spread), freq)
    for case in (dict(level="code"), dict(level="theme", measure="jaccard"),
                 dict(level="code", codes=[c.id for c in book.walk()][::-2],
                      drop_unused=False)):
        co = coding.compute_cooccurrence(rules, book, **case)
        assert (co.to_numpy() > 0).sum() > 10
        for table, whole in ((lazy, True), (shuffled, False)):
            _assert_frames(scale.compute_cooccurrence_distributed(
                table, book, whole_segments=whole, **case), co)


def test_the_tables_refuse_what_the_one_process_tables_refuse(client, book, rules) -> None:
    import dask.dataframe as dd

    two_coders = pd.concat([rules, rules.assign(coder="someone else")], ignore_index=True)
    with pytest.raises(CodingError, match="more than one coder"):
        scale.compute_code_frequencies_distributed(dd.from_pandas(two_coders, npartitions=3),
                                                   book)
    with pytest.raises(CodingError, match="not in codebook"):
        scale.compute_cooccurrence_distributed(
            dd.from_pandas(rules.assign(code_id="no.such.code"), npartitions=2), book)
    with pytest.raises(CodingError, match="needs the segments"):
        scale.compute_code_frequencies_distributed(dd.from_pandas(rules, npartitions=2), book,
                                                   by="section")


def test_agreement_and_triangulation_from_reduced_codings(client, book, rules) -> None:
    import dask.dataframe as dd

    review = tk.load_review()
    segments = coding.segments_from_review(review)
    curator = coding.load_codings(bundled_codings_dir())
    # A second coder who leaves out every third coding and repeats some, for agreement.
    second = curator.iloc[[i for i in range(len(curator)) if i % 3]].assign(coder="second")
    human = pd.concat([curator, second, second.iloc[:20]], ignore_index=True)
    rules = rules[rules["segment_id"].isin(set(segments["segment_id"]))]
    both = pd.concat([human, rules], ignore_index=True)
    reduced = scale.reduce_codings(dd.from_pandas(both, npartitions=3))
    assert len(reduced) < len(both)
    human_reduced = scale.reduce_codings(dd.from_pandas(human, npartitions=3))
    for level in ("code", "theme"):
        _assert_frames(agreement.compute_agreement(human_reduced, codebook=book, level=level,
                                                   n_boot=50),
                       agreement.compute_agreement(human, codebook=book, level=level,
                                                   n_boot=50))
    methods = dict(coders=["curator", "rules"], methods=["human", "rules"], codebook=book,
                   level="theme", n_boot=50)
    _assert_frames(agreement.compute_agreement(reduced, **methods),
                   agreement.compute_agreement(both, **methods))
    rules_reduced = reduced[reduced["method"] == "rules"].reset_index(drop=True)
    _assert_frames(tri.compute_method_agreement(curator, rules_reduced, book,
                                                n_boot=50).wide,
                   tri.compute_method_agreement(curator, rules, book, n_boot=50).wide)
    source = tri.compute_source_triangulation(human, segments, review.records, book,
                                              cases=review.cases)
    again = tri.compute_source_triangulation(human_reduced, segments, review.records, book,
                                             cases=review.cases)
    _assert_frames(again.wide, source.wide)
    _assert_frames(tri.compute_investigator_triangulation(human_reduced, book).wide,
                   tri.compute_investigator_triangulation(human, book).wide)


# --- embeddings and topics ------------------------------------------------------------

def test_tfidf_embeddings_fitted_on_a_sample(client, segments) -> None:
    from toolkit.scale.topics import sample_positions
    from toolkit.topics.embeddings import TfidfSvdEmbedder

    texts = segments["text"].tolist()
    local = TfidfSvdEmbedder(random_state=0)
    local.embed([texts[i] for i in sample_positions(len(texts), 800, 0)])
    np.testing.assert_array_equal(
        scale.embed_distributed(texts, "tfidf", client=client, sample_size=800),
        local.embed(texts))


def _variants() -> pd.DataFrame:
    real = coding.segments_from_review(tk.load_review())
    rng = np.random.default_rng(0)
    variants = []  # each real segment, several times with a fifth of its words dropped
    for k in range(6):
        for segment_id, text in zip(real["segment_id"], real["text"], strict=True):
            words = text.split()
            kept = [w for w in words if rng.random() > 0.2] or words
            variants.append((f"{segment_id}~{k}", " ".join(kept)))
    return pd.DataFrame(variants, columns=["segment_id", "text"]).astype("string")


def test_topic_model_fitted_on_a_sample_assigns_every_segment(client) -> None:
    from toolkit.scale.topics import sample_positions
    from toolkit.topics import TopicModel

    segments = _variants()
    sample = segments.iloc[sample_positions(len(segments), 300, 0)].reset_index(drop=True)
    reference = TopicModel(min_topic_size=8, use_cache=False).fit(sample)
    expected = reference.transform(segments)
    placed = scale.fit_topics_distributed(TopicModel(min_topic_size=8, use_cache=False),
                                          segments, client=client, sample_size=300,
                                          npartitions=4)
    assert placed["segment_id"].tolist() == segments["segment_id"].tolist()
    assert len(set(expected)) > 2
    np.testing.assert_array_equal(placed["topic"].to_numpy(), expected)


# --- command line ---------------------------------------------------------------------

def test_slr_load_and_code_on_the_cluster_print_what_one_process_prints(client, capsys,
                                                                        tmp_path) -> None:
    from toolkit.cli import main

    address = client.scheduler.address
    args = ["load", *map(str, PATHS), "--dedupe"]
    assert main(args) == 0
    one = capsys.readouterr().out
    assert main([*args, "--scheduler", address]) == 0
    assert capsys.readouterr().out == one
    table = tmp_path / "texts.csv"
    coding.segments_from_review(tk.load_review())[["segment_id", "text"]].to_csv(
        table, index=False)
    common = ["code", str(table), "--codebook", str(bundled_codebook_path())]
    assert main([*common, "--out", str(tmp_path / "one.csv")]) == 0
    assert main([*common, "--out", str(tmp_path / "many.csv"), "--scheduler", address]) == 0
    capsys.readouterr()
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()


def test_slr_topics_on_the_cluster_fits_a_sample_and_places_every_segment(client, capsys,
                                                                          tmp_path) -> None:
    from toolkit.cli import main
    from toolkit.scale.topics import sample_positions
    from toolkit.topics import TopicModel

    segments = _variants()
    table = tmp_path / "texts.csv"
    segments.to_csv(table, index=False)
    sample = segments.iloc[sample_positions(len(segments), 300, 0)].reset_index(drop=True)
    expected = TopicModel(min_topic_size=8, use_cache=False).fit(sample).transform(segments)
    out = tmp_path / "model"
    assert main(["topics", str(table), "--id-column", "segment_id", "--min-topic-size", "8",
                 "--sample-size", "300",
                 "--scheduler", client.scheduler.address, "--out", str(out)]) == 0
    assert f"sample of 300 of {len(segments)} segments" in capsys.readouterr().out
    placed = pd.read_csv(out / "document_topics.csv")
    assert placed["segment_id"].tolist() == segments["segment_id"].tolist()
    np.testing.assert_array_equal(placed["topic"].to_numpy(), expected)
    assert main(["topics", str(table), "--sample-size", "300"]) == 2  # needs a cluster
    assert "--sample-size" in capsys.readouterr().err
