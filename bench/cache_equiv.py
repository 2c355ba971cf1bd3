"""cache_equiv.py CODE TREE [SEED]: for the copy of mllint at CODE (a folder holding mllint/; the tree is copied to
/tmp/s3perf/equiv-NAME and the runs start in /tmp/s3perf), after a cold cached run, edit files in several ways; after each edit, the cached run on the
file and on the tree must equal a --no-cache run on the tree (findings of that file / all)."""
import json, os, random, re, shutil, subprocess, sys
code, src = sys.argv[1], sys.argv[2]
work = f"/tmp/s3perf/equiv-{os.path.basename(src)}"; shutil.rmtree(work, ignore_errors=True); shutil.copytree(src, work, ignore=shutil.ignore_patterns(".mllint_cache"))
if not os.path.exists(os.path.join(work, ".git")): os.mkdir(os.path.join(work, ".git"))
env = dict(os.environ, PYTHONPATH=code)
def run(*args, cache=True):
    extra = ["--cache-dir", work + "-cache"] if cache else ["--no-cache"]
    out = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", "--exit-zero", "--jobs", "2", *extra, *args], env=env, capture_output=True, text=True, cwd="/tmp/s3perf").stdout
    data = json.loads(out); return data["findings"] if isinstance(data, dict) else data
run(work)
pys = sorted(os.path.join(d, f) for d, _, fs in os.walk(work) for f in fs if f.endswith(".py") and ".git" not in d)
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
bad = 0
for n, path in enumerate(rng.sample(pys, min(8, len(pys)))):
    text = open(path).read()
    kind = n % 4
    if kind == 0: text += "\n# edit\n"
    elif kind == 1: text = "import os\n" + text
    elif kind == 2: text = re.sub(r"(?<![\w.])(\d+)", lambda m: str(int(m.group(1)) + 1), text, count=3)
    else: text = text.replace("seed", "sead", 1).replace("lr", "lr2", 1)
    open(path, "w").write(text)
    one = run(path); full_cached = run(work); full = run(work, cache=False)
    mine = [f for f in full if os.path.abspath(os.path.join("/tmp/s3perf", f["path"])) == path]
    ok = one == mine and full_cached == full
    bad += not ok
    print(kind, os.path.relpath(path, work), len(mine), len(full), "OK" if ok else "DIFFERENT")
print("differences:", bad)
