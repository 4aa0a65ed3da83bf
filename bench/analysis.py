"""Speed, memory and quality of the analysis module (analyse/) on one core.

Speed: analyse() end to end on 800 and 5,000 ideas from the CIMT corpus, similar-ideas
queries at 10,000, peak memory of analyse() at 50,000 in a fresh subprocess. Quality:
clustering against the corpus's `process` column (five processes, a weak topic label)
and against the human topics of the demo ideas, zero-shot fields of action against the
demo ideas' fields, and the classifier trained on 30 % of them.

Larger collections are resampled from the corpus with replacement, each copy with one
random word dropped, so they are not all exact duplicates. The corpus in
../shared/corpora/ is read there, never copied; without it, those parts are skipped.
"""
import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "cimt-beteiligung" / "beitraege.csv"
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SEED = 2035
QUERIES = 200
MEMORY_SIZE = 50_000
TRAINING_SHARE = 0.3


def read_corpus():
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if (row["title"] + row["text"]).strip()]


def resample(rows, count, seed):
    """`count` (title, text, process) from rows: all of them first, then copies with one word dropped."""
    rng = random.Random(seed)
    picked = [(row["title"], row["text"], row["process"]) for row in rows[:count]]
    while len(picked) < count:
        row = rng.choice(rows)
        words = row["text"].split()
        if len(words) > 1:
            del words[rng.randrange(len(words))]
        picked.append((row["title"], " ".join(words), row["process"]))
    return picked


def documents(samples):
    from analyse import Document
    return [Document(number, text, title) for number, (title, text, _process) in enumerate(samples)]


def scores(truth, found):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from analyse.cli import purity
    return (f"NMI {normalized_mutual_info_score(truth, found):.3f}  ARI {adjusted_rand_score(truth, found):.3f}  "
            f"purity {purity(truth, found):.3f}")


def run():
    os.environ.update(ONE_CORE)
    with threadpool_limits(1):
        if not CORPUS.exists():
            print(f"   Korpus fehlt ({CORPUS}): Geschwindigkeit und Korpus-Qualität übersprungen.")
        else:
            rows = read_corpus()
            speed(rows)
            corpus_quality(rows)
        demo_quality()


def speed(rows):
    from analyse import analyse
    from analyse.similar import SimilarityIndex
    from analyse.text import nlp

    started = time.perf_counter()
    nlp()
    print(f"   spaCy (blank de + lookup lemmatiser) loaded once in {time.perf_counter() - started:.2f} s")
    for count, limit in ((800, 5), (5_000, 20)):
        docs = documents(resample(rows, count, SEED))
        started = time.perf_counter()
        result = analyse(docs, seed=0)
        seconds = time.perf_counter() - started
        steps = ", ".join(f"{step} {value:.2f}" for step, value in result.timings.items() if step != "total")
        print(f"   analyse() {count:>6,} ideas: {seconds:5.2f} s (limit {limit} s), k={result.k}, "
              f"{len(result.duplicate_groups)} duplicate groups; steps: {steps}")

    samples = resample(rows, 10_000, SEED + 1)
    started = time.perf_counter()
    index = SimilarityIndex([(number, f"{title}\n{title}\n{text}") for number, (title, text, _p) in enumerate(samples)])
    build = time.perf_counter() - started
    rng = random.Random(SEED)
    queries = [f"{title} {text}"[:300] for title, text, _process in rng.sample(samples, QUERIES)]
    index.query(queries[0])
    times = []
    for query in queries:
        started = time.perf_counter()
        index.query(query, limit=5)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"   similar ideas at 10,000: build {build:.2f} s; query median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, max {times[-1]:.1f} ms (limit 50 ms)")
    memory()


# Peak RSS of the subprocess in kB: VmHWM belongs to the process's own memory map, while
# ru_maxrss may include the high-water mark of the parent that forked it.
MEMORY_SCRIPT = """
import resource, sys, time
sys.path.insert(0, {root!r})
from bench.analysis import documents, peak_rss_kb, read_corpus, resample
from analyse import analyse
docs = documents(resample(read_corpus(), {size}, {seed}))
before = peak_rss_kb()
started = time.perf_counter()
result = analyse(docs, seed=0)
print(before, peak_rss_kb(), time.perf_counter() - started, result.k, len(result.duplicate_groups))
"""


def peak_rss_kb():
    """Peak resident memory of this process in kB (VmHWM on Linux, else ru_maxrss)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory():
    script = MEMORY_SCRIPT.format(root=str(ROOT), size=MEMORY_SIZE, seed=SEED + 2)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **ONE_CORE})
    if done.returncode != 0:
        print(f"   memory at {MEMORY_SIZE:,}: subprocess failed: {done.stderr.strip().splitlines()[-1:]}")
        return
    before, peak, seconds, k, groups = done.stdout.split()
    print(f"   analyse() {MEMORY_SIZE:,} ideas in a subprocess: peak RSS {int(peak) / 1024:.0f} MB (limit 1024 MB; "
          f"{int(before) / 1024:.0f} MB before the analysis), {float(seconds):.1f} s, k={k}, {groups} duplicate groups")


def corpus_quality(rows):
    from analyse import analyse

    truth = [row["process"] for row in rows]
    docs = documents(resample(rows, len(rows), SEED))
    for k in ("auto", 5):
        started = time.perf_counter()
        result = analyse(docs, k=k, seed=0)
        found = [result.assignments[doc.id] for doc in docs]
        print(f"   corpus ({len(docs):,} contributions) vs process, k={k} -> {result.k}: {scores(truth, found)} "
              f"({time.perf_counter() - started:.1f} s)")


def demo_quality():
    try:
        from beteiligung.ideas.demo import labelled_demo_ideas
    except ImportError:
        print("   demo ideas: beteiligung.ideas.demo.labelled_demo_ideas not available yet, skipped")
        return
    from analyse import Document, analyse

    ideas = labelled_demo_ideas()
    docs = [Document(idea["id"], idea["text"], idea["title"]) for idea in ideas]
    topics = [idea["topic"] for idea in ideas]
    for k in ("auto", len(set(topics))):
        result = analyse(docs, k=k, seed=0)
        found = [result.assignments[doc.id] for doc in docs]
        print(f"   demo ideas ({len(docs)}, {len(set(topics))} topics), k={k} -> {result.k}: {scores(topics, found)}")
    with_sector = [(doc, idea["sector"]) for doc, idea in zip(docs, ideas) if idea["sector"]]
    correct = sum(result.sector_suggestions[doc.id].code == sector for doc, sector in with_sector)
    confidence = statistics.mean(result.sector_suggestions[doc.id].confidence for doc, _sector in with_sector)
    print(f"   demo fields of action, zero-shot: {correct / len(with_sector):.3f} correct of {len(with_sector)} "
          f"(mean confidence {confidence:.3f})")
    rng = random.Random(SEED)
    confirmed = {doc.id: sector for doc, sector in rng.sample(with_sector, int(TRAINING_SHARE * len(with_sector)))}
    trained_docs = [Document(doc.id, doc.text, doc.title, confirmed.get(doc.id)) for doc in docs]
    result = analyse(trained_docs, k=len(set(topics)), seed=0)
    report = result.classifier
    rest = [(doc, sector) for doc, sector in with_sector if doc.id not in confirmed]
    correct = sum(result.sector_suggestions[doc.id].code == sector for doc, sector in rest)
    cv = f"{report.cv_accuracy:.3f}" if report.cv_accuracy is not None else "-"
    print(f"   demo fields of action, classifier on {len(confirmed)} confirmed ({TRAINING_SHARE:.0%}): "
          f"trained={report.trained}, cv accuracy {cv} ({report.folds} folds, zero-shot on the same "
          f"{report.zero_shot_accuracy:.3f}); on the other {len(rest)}: {correct / len(rest):.3f} correct")
