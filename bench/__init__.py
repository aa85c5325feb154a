"""`make bench`: how fast impact-review reviews and writes large reports, against baselines.

Run as `python -m bench` from the repository root. Every figure is the median of several
repetitions timed with `time.perf_counter`, next to its baseline measured in the same run, for
an input size; the results go to `bench/results.md` and `bench/results.json`. Work that must
start cold (time to interactive, a first render, an apply, peak memory) runs in a fresh
interpreter per repetition (`bench.child`), so sizes and repetitions cannot warm or pollute
each other. Benchmarks report; they never fail a build.
"""
