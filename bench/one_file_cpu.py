"""one_file_cpu.py TREE REL N NAME... [--top]: the one-changed-file path of several compiled copies of mllint
(/tmp/s3perf/snap/NAME/mllint), alternating within each round: a line `# edit` appended to REL (--top: inserted
above the first line, which moves every Loc below it), `mllint --jobs 2` on REL with that copy's warm cache, then
the one-file floor (a fresh Python that imports libcst and parses REL). Prints medians of wall time and of CPU time
(user+sys of the process and its workers) and their ratios to the floor. Run from the folder that holds TREE."""
import os, resource, statistics, subprocess, sys, time
top = "--top" in sys.argv
args = [a for a in sys.argv[1:] if a != "--top"]
tree, rel, n, names = args[0], args[1], int(args[2]), args[3:]
res = {k: [] for k in names}; floor = []
def run(cmd, env=None):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - t, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
for name in names:  # warm each cache
    env = dict(os.environ, PYTHONPATH=f"/tmp/s3perf/snap/{name}")
    run([sys.executable, "-m", "mllint", "-q", "--exit-zero", "--jobs", "2", "--cache-dir", f"/tmp/s3perf/cache/{name}-{os.path.basename(tree)}", tree], env)
for i in range(n):
    for name in names:
        env = dict(os.environ, PYTHONPATH=f"/tmp/s3perf/snap/{name}")
        path = os.path.join(tree, rel)
        text = open(path).read()
        with open(path, "w") as h:
            h.write(f"# edit {name} {i}\n" + text if top else text + f"\n# edit {name} {i}\n")
        res[name].append(run([sys.executable, "-m", "mllint", "-q", "--exit-zero", "--jobs", "2", "--cache-dir", f"/tmp/s3perf/cache/{name}-{os.path.basename(tree)}", os.path.join(tree, rel)], env))
        floor.append(run([sys.executable, "-c", "import sys, libcst; libcst.parse_module(open(sys.argv[1], 'rb').read())", os.path.join(tree, rel)]))
fw = statistics.median(w for w, _ in floor); fc = statistics.median(c for _, c in floor)
print(f"{tree} {rel}: floor wall {fw:.3f} cpu {fc:.3f}  load {os.getloadavg()[0]:.1f}")
for name, v in res.items():
    w = statistics.median(x for x, _ in v); c = statistics.median(x for _, x in v)
    print(f"  {name}: wall {w:.3f} ({w/fw:.2f}x)  cpu {c:.3f} ({c/fc:.2f}x)   walls {' '.join(f'{x:.2f}' for x,_ in v)}")
