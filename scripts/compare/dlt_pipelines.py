"""The two dlt pipelines `npm run bench -- compare` measures beside this project's sync.

  python dlt_pipelines.py pyiceberg-batches|filesystem-iceberg

Both run dlt's Salesforce verified source, unchanged, from the folder named by DLT_SOURCE_DIR (the
folder that holds the `salesforce` package: what `dlt init salesforce duckdb` writes, or
`sources/` of a dlt-hub/verified-sources clone), against the Salesforce simulator, Account only:

- pyiceberg-batches: the original pipeline. A custom dlt destination
  (`@dlt.destination(batch_size=...)`) appends each batch to an Iceberg table through pyiceberg's
  REST catalog: one snapshot per batch.
- filesystem-iceberg: dlt's own route. The filesystem destination on S3 with
  table_format="iceberg", its catalog the same REST catalog (dlt's `iceberg_catalog` settings).

simple_salesforce talks https to login.salesforce.com and to the instance the login returns; the
source takes a requests session (its own `session` argument), and a transport adapter mounted on
that session sends those requests to the simulator over http: the part a hosts file and TLS would
play. The source's files are not changed. Credentials reach the source as dlt's env vars
(SOURCES__SALESFORCE__CREDENTIALS__*). The simulator does not speak Bulk API 1.0 (which the source
tries first): it answers as an org without the Async API, and the source falls back to REST queries
(2,000 records a page) as it does for such orgs.

Settings come from the environment (SIM_URL, SF_USER_NAME, SF_PASSWORD, SF_SECURITY_TOKEN,
ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE, S3_*, NAMESPACE, EXPECTED_ROWS, BATCH_SIZE, WORK_DIR).
Prints one JSON line: rows, seconds from the source's login to the last commit, snapshots, peak RSS.
"""

import json
import os
import resource
import sys
import time

STARTED = time.perf_counter()

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"dlt_pipelines.py: {name} is not set")
    return value


MODE = sys.argv[1] if len(sys.argv) > 1 else ""
if MODE not in ("pyiceberg-batches", "filesystem-iceberg"):
    sys.exit("usage: dlt_pipelines.py pyiceberg-batches|filesystem-iceberg")

SOURCE_DIR = env("DLT_SOURCE_DIR")
if not os.path.isfile(os.path.join(SOURCE_DIR, "salesforce", "__init__.py")):
    sys.exit(f"dlt_pipelines.py: no dlt Salesforce source in {SOURCE_DIR} (expected {SOURCE_DIR}/salesforce/__init__.py)")
NAMESPACE = env("NAMESPACE")
TABLE = "account"
EXPECTED = int(env("EXPECTED_ROWS"))
BATCH_SIZE = int(env("BATCH_SIZE", "1000"))
WORK_DIR = env("WORK_DIR")
S3 = {
    "s3.endpoint": env("S3_ENDPOINT"),
    "s3.access-key-id": env("S3_ACCESS_KEY_ID"),
    "s3.secret-access-key": env("S3_SECRET_ACCESS_KEY"),
    "s3.region": env("S3_REGION", "us-east-1"),
    "s3.path-style-access": env("S3_PATH_STYLE", "true"),
}
CATALOG = {"type": "rest", "uri": env("ICEBERG_CATALOG_URI"), **({"warehouse": os.environ["ICEBERG_WAREHOUSE"]} if os.environ.get("ICEBERG_WAREHOUSE") else {}), **S3}

# dlt's settings, as a user would set them: the source's credentials, no telemetry, state under WORK_DIR.
os.environ["SOURCES__SALESFORCE__CREDENTIALS__USER_NAME"] = env("SF_USER_NAME")
os.environ["SOURCES__SALESFORCE__CREDENTIALS__PASSWORD"] = env("SF_PASSWORD")
os.environ["SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN"] = env("SF_SECURITY_TOKEN")
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ["DLT_DATA_DIR"] = os.path.join(WORK_DIR, "dlt-data")

import dlt  # noqa: E402
from pyiceberg.catalog import load_catalog  # noqa: E402

sys.path.insert(0, SOURCE_DIR)
from salesforce import salesforce_source  # noqa: E402


class RouteToSimulator(HTTPAdapter):
    """Sends every https request of the session to the simulator over http, path and query kept."""

    def __init__(self, target):
        super().__init__()
        self.target = target.rstrip("/")

    def send(self, request, **kwargs):
        path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        request.url = f"{self.target}/{path}"
        return super().send(request, **kwargs)


def simulator_session():
    session = requests.Session()
    session.mount("https://", RouteToSimulator(env("SIM_URL")))
    return session


def catalog():
    return load_catalog("compare", **CATALOG)


def account_only():
    source = salesforce_source(session=simulator_session()).with_resources("account")
    # The source declares Account as a merge on LastModifiedDate without a key; a first full load
    # into an empty table is an append (what this project's first sync commits too).
    source.resources["account"].apply_hints(write_disposition="append")
    return source


def pyiceberg_batches():
    """The original pipeline: every batch of BATCH_SIZE rows appended as its own snapshot."""
    import pyarrow as pa

    cat = catalog()
    table_id = (NAMESPACE, TABLE)
    state = {"table": None}

    @dlt.destination(batch_size=BATCH_SIZE, loader_file_format="parquet", name="pyiceberg")
    def pyiceberg_sink(items, table) -> None:
        data = pa.Table.from_batches([items]) if isinstance(items, pa.RecordBatch) else items
        if state["table"] is None:
            cat.create_namespace_if_not_exists(NAMESPACE)
            state["table"] = cat.create_table_if_not_exists(table_id, schema=data.schema)
        state["table"].append(data)

    pipeline = dlt.pipeline(pipeline_name=f"compare_batches_{NAMESPACE}", destination=pyiceberg_sink, pipelines_dir=os.path.join(WORK_DIR, "pipelines"))
    pipeline.run(account_only())
    return table_id


def filesystem_iceberg():
    """dlt's own route: the filesystem destination writing an Iceberg table, its catalog the REST catalog."""
    os.environ["ICEBERG_CATALOG__ICEBERG_CATALOG_NAME"] = "compare"
    os.environ["ICEBERG_CATALOG__ICEBERG_CATALOG_TYPE"] = "rest"
    os.environ["ICEBERG_CATALOG__ICEBERG_CATALOG_CONFIG"] = json.dumps(CATALOG)
    destination = dlt.destinations.filesystem(
        bucket_url=f"s3://{env('S3_BUCKET')}/dlt-compare",
        credentials={
            "aws_access_key_id": S3["s3.access-key-id"],
            "aws_secret_access_key": S3["s3.secret-access-key"],
            "endpoint_url": S3["s3.endpoint"],
            "region_name": S3["s3.region"],
        },
    )
    pipeline = dlt.pipeline(
        pipeline_name=f"compare_filesystem_{NAMESPACE}", destination=destination, dataset_name=NAMESPACE, pipelines_dir=os.path.join(WORK_DIR, "pipelines")
    )
    pipeline.run(account_only(), table_format="iceberg", loader_file_format="parquet")
    return (NAMESPACE, TABLE)


def peak_rss_mb():
    # Linux reports ru_maxrss in kB; children: dlt's own worker processes, if it started any.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024)


def cpu_s():
    # User + system CPU of this process (all its threads) and of its waited-for children.
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def versions():
    from importlib.metadata import version

    return {name: version(name) for name in ("dlt", "pyiceberg", "simple-salesforce", "pyarrow")}


def main():
    imported = time.perf_counter()
    cpu_before = cpu_s()
    table_id = pyiceberg_batches() if MODE == "pyiceberg-batches" else filesystem_iceberg()
    finished = time.perf_counter()
    run_cpu = cpu_s() - cpu_before
    table = catalog().load_table(table_id)
    # Snapshots committed since the table was created: the v2 sequence number counts them even on
    # Nessie, whose table metadata keeps only the current snapshot (the history is Nessie's commits).
    snapshots = table.metadata.last_sequence_number if table.metadata.format_version >= 2 else len(table.snapshots())
    current = table.current_snapshot()
    rows = int(current.summary["total-records"]) if current and current.summary else 0
    figures = {
        "mode": MODE,
        "rows": rows,
        "expected_rows": EXPECTED,
        "run_s": round(finished - imported, 2),
        "process_s": round(finished - STARTED, 2),
        "run_cpu_s": round(run_cpu, 2),
        "snapshots": snapshots,
        "snapshots_in_metadata": len(table.snapshots()),
        "data_files": int(current.summary["total-data-files"]) if current and current.summary else 0,
        "peak_rss_mb": peak_rss_mb(),
        "versions": versions(),
        "table": ".".join(table_id),
        "location": table.location(),
    }
    if os.environ.get("KEEP") != "1":
        cat = catalog()
        cat.drop_table(table_id)
        try:
            import s3fs

            fs = s3fs.S3FileSystem(key=S3["s3.access-key-id"], secret=S3["s3.secret-access-key"], client_kwargs={"endpoint_url": S3["s3.endpoint"], "region_name": S3["s3.region"]})
            fs.rm(table.location().replace("s3://", "", 1), recursive=True)
            if MODE == "filesystem-iceberg" and fs.exists(f"{env('S3_BUCKET')}/dlt-compare/{NAMESPACE}"):
                fs.rm(f"{env('S3_BUCKET')}/dlt-compare/{NAMESPACE}", recursive=True)  # dlt's own state files
        except Exception as error:  # the figures stand without the clean-up
            print(f"could not remove {table.location()}: {error}", file=sys.stderr)
        try:
            cat.drop_namespace(NAMESPACE)
        except Exception:
            pass
    print(json.dumps(figures))
    if rows != EXPECTED:
        sys.exit(f"dlt_pipelines.py: {MODE} wrote {rows} rows, the source holds {EXPECTED}")


main()
