import json,gzip,sys,collections,bisect
d=json.load(gzip.open(sys.argv[1]))
ev=[e for e in d["traceEvents"] if e.get("ph")=="X"]
kern={}
for e in ev:
    if e.get("cat") in ("kernel","gpu_memcpy","gpu_memset"):
        kern[e["args"].get("correlation")]=e["dur"]
cpu=collections.defaultdict(list)
for e in ev:
    if e.get("cat") in ("cpu_op","user_annotation"):
        cpu[e["tid"]].append((e["ts"],e["ts"]+e["dur"],e["name"]))
for t in cpu: cpu[t].sort()
agg=collections.defaultdict(float); cnt=collections.Counter()
for e in ev:
    if e.get("cat")=="cuda_runtime" and e["args"].get("correlation") in kern:
        c=e["args"]["correlation"]; ts=e["ts"]
        enclosing=[x for x in cpu[e["tid"]] if x[0]<=ts<=x[1]]
        # outermost meaningful: autograd evaluate_function if present else outermost aten
        names=[x[2] for x in sorted(enclosing, key=lambda x:(x[0],-x[1]))]
        ag=[n for n in names if n.startswith("autograd::engine")]
        key=ag[0].split(": ")[-1] if ag else (names[0] if names else "?")
        if len(names)>1 and not ag: key=names[0]+" > "+names[-1]
        agg[key]+=kern[c]; cnt[key]+=1
tot=sum(agg.values())
print("total", tot/1e3)
for k,v in sorted(agg.items(), key=lambda kv:-kv[1])[:45]: print(f"{v/1e3:8.2f} {cnt[k]:5d} {k[:120]}")
