"""How values pass through library calls, for the data-flow engine (interpreter.py): which calls
return their arguments' data, which return a view of their receiver, which carry nothing. Names only:
the tables hold no family's notion of a source or a sink."""
from __future__ import annotations

import re

# Calls whose result is the data of their arguments (not a computation on it).
DATA_CALLS = frozenset({
    "DataLoader", "Subset", "ConcatDataset", "ChainDataset", "TensorDataset", "cat", "concatenate", "stack",
    "vstack", "hstack", "concat", "array", "asarray", "tensor", "as_tensor", "from_numpy", "Tensor",
    "FloatTensor", "LongTensor", "list", "tuple", "iter", "next", "tqdm", "sorted", "copy", "deepcopy",
    "read_csv", "read_json", "read_parquet", "read_table", "read_pickle", "read_excel", "load", "loadtxt",
    "genfromtxt", "ImageFolder", "DatasetFolder", "glob", "iglob", "listdir", "Path", "join", "DataFrame",
    "Series", "from_pandas", "from_dict", "from_list", "interleave_datasets", "concatenate_datasets",
    "shuffle", "cycle", "chain", "islice", "repeat", "prefetch", "batch", "cache",
})
CONCAT_CALLS = frozenset({"ConcatDataset", "ChainDataset", "cat", "concatenate", "vstack", "hstack", "concat",
                          "concatenate_datasets", "interleave_datasets", "chain"})
# Methods whose result is (a view of) the receiver's data.
DATA_METHODS = frozenset({
    "to", "cuda", "cpu", "float", "double", "long", "int", "half", "bfloat16", "numpy", "reshape", "view",
    "permute", "transpose", "squeeze", "unsqueeze", "flatten", "astype", "copy", "clone", "detach", "tolist",
    "select", "filter", "map", "shuffle", "sample", "dropna", "fillna", "drop", "head", "tail", "take", "batch",
    "with_format", "set_format", "rename_column", "rename_columns", "remove_columns", "cast_column", "sort",
    "train_test_split", "items", "values", "keys", "get", "pop", "contiguous", "split", "chunk", "unbatch",
    "prefetch", "cache", "repeat", "to_numpy", "to_pandas", "to_list", "to_dict", "__iter__", "iterrows",
    "itertuples", "reset_index", "dataset",
})
# Methods that hand their positional arguments back, each in its place: `a, b, m = accelerator.prepare(a, b, m)`,
# Lightning Fabric's `setup_dataloaders(train, val)`.
RETURNS_ARGUMENTS = frozenset({"prepare", "setup_dataloaders"})
# Calls whose result carries nothing of their arguments.
CLEAN_CALLS = frozenset({
    "len", "range", "print", "isinstance", "hasattr", "type", "id", "callable", "issubclass", "exists",
    "isdir", "isfile", "makedirs", "mkdir", "time", "perf_counter", "format", "repr", "info", "debug",
    "warning", "log", "add_scalar", "add_scalars", "set_description", "set_postfix", "write", "size", "numel",
    "dim", "nelement", "ndimension", "__len__",
})
MUTATORS = frozenset({"append", "extend", "update", "add", "insert", "add_", "put", "push", "appendleft"})
CONFIG_KEYWORD = re.compile(r"^(?:num|n|max|min)_|_(?:size|len|length|dim|classes)$|^(?:seed|device|dtype|vocab_size)$")
# Library entry points read as such even when a project module shadows the library's name (a `datasets.py`).
LIBRARY_APIS = frozenset({
    "datasets.load_dataset", "datasets.load_from_disk", "datasets.concatenate_datasets", "datasets.Dataset",
    "datasets.DatasetDict", "datasets.interleave_datasets", "datasets.Dataset.from_dict",
    "datasets.Dataset.from_pandas",
})
# Calls that build a namespace from their keyword arguments: `dict(train=a, test=b)`.
NAMESPACE_CALLS = frozenset({"dict", "SimpleNamespace", "Namespace", "EasyDict", "edict", "namedtuple"})
# Attributes that describe a value rather than hold its data.
METADATA_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "classes", "class_to_idx", "num_classes", "columns"})
