"""Cost and held-out quality of the default scmaskgan run (the count model since it became the default).

Runs the command line ``scmaskgan impute`` in a child process measured by
:func:`scmaskgan.benchmarking.child.run_command` (wall time and peak RSS of the whole
run, imports and I/O included: the number ``/usr/bin/time -v`` reports), on:

* sc_celseq2 (CellBench CEL-seq2, GSE118706): protocol A (10% of the non-zero
  entries of the 2,000 most variable genes hidden) and protocol B (binomial
  thinning to 30% of the molecules), true cell-line labels, default settings; protocol A scores the
  answer it asks for, the value if detected (``layers["scmaskgan_if_detected"]``) where the method gives
  one, protocol B the main layer;
* GSM5768752 (neuroblastoma, all 33,514 genes, Louvain labels): cost only.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/foundation.py [--out DIR] [--skip-gsm] [--threads N]
        [--mode MODE]

Prints a markdown table and writes ``foundation.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import anndata as ad
import numpy as np

import scmaskgan
from scmaskgan.benchmarking import prepare
from scmaskgan.benchmarking.child import run_command


#: The command line's options besides the data (``--mode`` when given) and the threads of each run.
OPTIONS: dict = {"argv": [], "threads": None}


def run_case(adata: ad.AnnData, labels_key: str, folder: Path, name: str) -> tuple[ad.AnnData, dict]:
    src, dst = folder / f"{name}.in.h5ad", folder / f"{name}.out.h5ad"
    adata.write_h5ad(src)
    run = run_command(["-m", "scmaskgan", "impute", str(src), "-o", str(dst), "--labels-key", labels_key, "--seed", "0",
                       "--force", "-q", *OPTIONS["argv"]], folder, name, threads=OPTIONS["threads"])
    cost = {"wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"]}
    out = ad.read_h5ad(dst)
    uns = out.uns["scmaskgan"]
    cost |= {"epochs": len(uns["history"]["epoch"]), "best_epoch": int(uns["best_epoch"]),
             "train_s": float(uns["timings"].get("train_s", 0.0)), "impute_s": float(uns["timings"]["impute_s"]),
             "image_side": int(uns["image_side"]), "generator_params": int(uns["n_parameters"]["generator"]),
             "discriminator_params": int(uns["n_parameters"]["discriminator"])}
    return out, cost


def celseq2(folder: Path) -> dict:
    # The protocol's labels are the metadata's `cell_line` column (the loader keeps it as
    # `cell_line_original`; its `cell_line` is the demuxlet call, which differs for 2 doublets).
    data = prepare("sc_celseq2")
    key = data.spec.labels_key
    corrupted, observed = data.protocol_a()[0], data.protocol_b()
    out, cost = run_case(data.anndata(corrupted), key, folder, "celseq2_A")
    layer_a = "scmaskgan_if_detected" if "scmaskgan_if_detected" in out.layers else "scmaskgan"
    result = {"cost": cost, "protocol_A": data.score("A", np.asarray(out.layers[layer_a])), "layer_A": layer_a,
              "protocol_A_no_imputation": data.score("A", corrupted)}
    out_b, cost_b = run_case(data.anndata(observed), key, folder, "celseq2_B")
    result["protocol_B"] = data.score("B", np.asarray(out_b.layers["scmaskgan"]))
    result["protocol_B_cost"] = cost_b
    return result


def gsm(folder: Path) -> dict:
    data = scmaskgan.datasets.load("gsm5768752")
    out, cost = run_case(data, "louvain", folder, "gsm5768752")
    return {"cost": cost, "n_cells": int(data.n_obs), "n_genes": int(data.n_vars),
            "n_genes_modelled": int(data.n_vars - out.uns["scmaskgan"]["n_genes_not_modelled"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="benchmarks/results", help="folder for foundation.json")
    parser.add_argument("--skip-gsm", action="store_true", help="leave out the 33,514-gene GSM5768752 run")
    parser.add_argument("--threads", type=int, default=None, help="threads of each run (default: the libraries')")
    parser.add_argument("--mode", default=None, help="--mode of the command line (default: its default)")
    args = parser.parse_args()
    OPTIONS.update(argv=[] if args.mode is None else ["--mode", args.mode], threads=args.threads)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        results = {"machine": f"{platform.machine()}, {platform.python_version()}, scmaskgan {scmaskgan.__version__}"}
        results["sc_celseq2"] = celseq2(Path(tmp))
        if not args.skip_gsm:
            results["gsm5768752"] = gsm(Path(tmp))
    (out_dir / "foundation.json").write_text(json.dumps(results, indent=1))

    print_celseq2(results["sc_celseq2"])
    if "gsm5768752" in results:
        print_gsm(results["gsm5768752"])


def print_celseq2(c: dict) -> None:
    a, b, cost = c["protocol_A"], c["protocol_B"], c["cost"]
    print("## sc_celseq2, 274 cells x 2,000 genes, true labels, default settings\n")
    print("| run | wall s | peak RSS MB | epochs (best) | RMSE | Pearson | Spearman | MAE | ARI | NMI |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| protocol A | {cost['wall_s']:.1f} | {cost['peak_rss_mb']:.0f} | {cost['epochs']} ({cost['best_epoch']}) | "
          f"{a['rmse']:.3f} | {a['pearson']:.3f} | {a['spearman']:.3f} | {a['mae']:.3f} | {a['ari']:.3f} | {a['nmi']:.3f} |")
    none = c["protocol_A_no_imputation"]
    print(f"| no imputation (protocol check: 0.645, ARI 0.977) | - | - | - | {none['rmse']:.3f} | - | - | "
          f"{none['mae']:.3f} | {none['ari']:.3f} | {none['nmi']:.3f} |")
    print(f"\nprotocol A scored {c['layer_A']}; reference scMASKGAN code: RMSE 0.520, Pearson 0.266, 801 s, 2303 MB "
          "(the project's benchmark anchors)\n")
    print("| protocol B | wall s | rmse_zeros | r_zeros | rmse_dropouts | mean at true zeros | r_all |")
    print("|---|---|---|---|---|---|---|")
    print(f"| sc_celseq2 | {c['protocol_B_cost']['wall_s']:.1f} | {b['rmse_zeros']:.3f} | {b['r_zeros']:.3f} | "
          f"{b['rmse_dropouts']:.3f} | {b['mean_at_true_zeros']:.3f} | {b['r_all']:.3f} |")
    print("\n(no imputation: rmse_zeros 1.136, rmse_dropouts 1.803, r_all 0.690)")


def print_gsm(g: dict) -> None:
    gc = g["cost"]
    print(f"\n## GSM5768752, {g['n_cells']} cells x {g['n_genes']:,} genes ({g['n_genes_modelled']:,} detected in "
          f"any cell and modelled, N = {gc['image_side']}), Louvain labels\n")
    print("| wall s | peak RSS MB | epochs | train s | impute s | G params | D params |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {gc['wall_s']:.1f} | {gc['peak_rss_mb']:.0f} | {gc['epochs']} | {gc['train_s']:.1f} | "
          f"{gc['impute_s']:.1f} | {gc['generator_params']:,} | {gc['discriminator_params']:,} |")


if __name__ == "__main__":
    main()
