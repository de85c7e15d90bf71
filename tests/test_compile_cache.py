"""The program cache: a traced program is stored once and reused without tracing, exactly."""

import json
import logging
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine import _compile_cache as cc


def _f(x, params):
    return {"y": jnp.sin(x @ params["w"]) + params["b"], "n": jnp.sum(x)}


@pytest.fixture
def exports(monkeypatch):
    """The programs traced and exported (jax.export.export calls) during a test."""
    calls = []
    real = jax.export.export

    def counted(fn, **kwargs):
        calls.append(fn)
        return real(fn, **kwargs)

    monkeypatch.setattr(jax.export, "export", counted)
    return calls


@pytest.fixture
def args():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(8, 5)), jnp.float32)
    params = {"w": jnp.asarray(rng.normal(size=(5, 3)), jnp.float32), "b": jnp.arange(3.0, dtype=jnp.float32)}
    return x, params


def _files(folder, suffix=".jaxexport"):
    return sorted(p for p in os.listdir(folder) if p.endswith(suffix))


def test_stored_program_is_reused_without_tracing_and_computes_the_same(tmp_path, args, exports):
    f, traces = _f, exports
    expected = jax.jit(f)(*args)
    first = cc.compile_program(jax.jit(f), args, "test", folder=str(tmp_path))
    assert len(_files(tmp_path)) == 1
    n = len(traces)
    again = cc.compile_program(jax.jit(f), args, "test", folder=str(tmp_path))  # a new jit object
    assert len(traces) == n  # read back, not exported
    for out in (first(*args), again(*args)):
        np.testing.assert_array_equal(out["y"], expected["y"])
        np.testing.assert_array_equal(out["n"], expected["n"])
    # another tag, or other shapes, is another program
    cc.compile_program(jax.jit(f), args, "other", folder=str(tmp_path))
    x, params = args
    cc.compile_program(jax.jit(f), (x[:4], params), "test", folder=str(tmp_path))
    assert len(traces) == n + 2
    assert len(_files(tmp_path)) == 3


def test_key_follows_tag_shapes_dtypes_and_source(monkeypatch, args):
    x, params = args
    key = cc.program_key("t", args)
    assert cc.program_key("t", args) == key
    assert cc.program_key("u", args) != key
    assert cc.program_key("t", (x.astype(jnp.float16), params)) != key
    assert cc.program_key("t", (jax.ShapeDtypeStruct(x.shape, x.dtype), params)) == key
    assert cc.program_key("t", (x, {"w": params["w"], "c": params["b"]})) != key
    monkeypatch.setattr(cc, "_source_digest", lambda: "edited")
    assert cc.program_key("t", args) != key


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_program_file_is_named_and_replaced(tmp_path, args, caplog, damage, exports):
    f, traces = _f, exports
    path = tmp_path / (cc.program_key("test", args) + ".jaxexport")
    cc.compile_program(jax.jit(f), args, "test", folder=str(tmp_path))
    good = path.read_bytes()
    path.write_bytes({"garbage": b"not a program" * 50, "truncated": good[: len(good) // 2], "empty": b""}[damage])
    n = len(traces)
    with caplog.at_level(logging.WARNING, logger="pyengine._compile_cache"):
        program = cc.compile_program(jax.jit(f), args, "test", folder=str(tmp_path))
    assert len(traces) == n + 1
    assert str(path) in caplog.text
    np.testing.assert_array_equal(program(*args)["y"], jax.jit(f)(*args)["y"])
    assert path.read_bytes() == good  # stored again
    cc.compile_program(jax.jit(f), args, "test", folder=str(tmp_path))
    assert len(traces) == n + 1


def test_unwritable_folder_still_compiles(tmp_path, args, caplog):
    f = _f
    missing = tmp_path / "gone"
    with caplog.at_level(logging.WARNING, logger="pyengine._compile_cache"):
        program = cc.compile_program(jax.jit(f), args, "test", folder=str(missing))
    assert "cannot store" in caplog.text
    np.testing.assert_array_equal(program(*args)["n"], jnp.sum(args[0]))


def test_cache_off_and_address_tags_compile_directly(tmp_path, args, monkeypatch, exports):
    monkeypatch.setattr(cc, "_EXPORTED", None)
    for program in (
        cc.compile_program(jax.jit(_f), args, "test"),
        cc.compile_program(jax.jit(_f), args, f"test {object()!r}", folder=str(tmp_path)),
    ):
        np.testing.assert_array_equal(program(*args)["y"], jax.jit(_f)(*args)["y"])
    assert _files(tmp_path) == []
    assert exports == []


def test_eval_shape_cached_round_trip_and_torn_file(tmp_path, caplog, monkeypatch):
    calls = []
    real = jax.eval_shape
    monkeypatch.setattr(jax, "eval_shape", lambda fn, *a: (calls.append(fn), real(fn, *a))[1])

    def variables(key, x):
        dense = {"kernel": jnp.zeros((x.shape[-1], 4)), "bias": jnp.zeros(4, jnp.bfloat16)}
        return {"params": {"dense": dense}, "stats": {"n": jnp.zeros((), jnp.int32)}}

    args = (jax.random.key(0), jax.ShapeDtypeStruct((2, 7), jnp.float32))
    expected = real(variables, *args)
    got = cc.eval_shape_cached(variables, args, "v", folder=str(tmp_path))
    assert got == expected
    [name] = _files(tmp_path, ".shapes.json")
    again = cc.eval_shape_cached(variables, args, "v", folder=str(tmp_path))
    assert len(calls) == 1  # the second read back
    assert again == expected
    assert again["params"]["dense"]["kernel"].shape == (7, 4)
    (tmp_path / name).write_text(json.dumps([["params", [3]]])[:-3])
    with caplog.at_level(logging.WARNING, logger="pyengine._compile_cache"):
        assert cc.eval_shape_cached(variables, args, "v", folder=str(tmp_path)) == expected
    assert name in caplog.text
    assert len(calls) == 2
    assert cc.eval_shape_cached(variables, args, "v", folder=str(tmp_path)) == expected
    assert len(calls) == 2  # stored again
    # an output that is not nested dicts of arrays is evaluated and not kept
    assert cc.eval_shape_cached(lambda k: (jnp.zeros(3),), (args[0],), "t", folder=str(tmp_path))[0].shape == (3,)
    assert len(_files(tmp_path, ".shapes.json")) == 1


def _mappings():
    with open("/proc/self/maps") as f:
        return sum(1 for _ in f)


def _tiny_program(k):
    return jax.jit(lambda x: jnp.sin(x) * k + k).lower(jnp.zeros((k,), jnp.float32)).compile()


def test_program_cache_keeps_the_last_used_and_validates_its_size():
    cache = cc.ProgramCache(2)
    built = []

    def build(k):
        built.append(k)
        return f"program {k}"

    assert cache.get("a", lambda: build("a")) == "program a"
    cache.get("b", lambda: build("b"))
    assert cache.get("a", lambda: build("a")) == "program a"  # kept, now the most recent
    cache.get("c", lambda: build("c"))  # drops b, the least recently used
    assert "a" in cache and "c" in cache and "b" not in cache and len(cache) == 2
    cache.get("b", lambda: build("b"))
    assert built == ["a", "b", "c", "b"]
    for bad in (0, -1, 2.5, True, None):
        with pytest.raises(ValueError, match="'maxsize' parameter of ProgramCache"):
            cc.ProgramCache(bad)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="counts the process's memory mappings in /proc")
def test_program_cache_keeps_memory_mappings_bounded(monkeypatch):
    """Many distinct compiled programs through a bounded cache leave the process's mapping count
    about where it was; the same number kept alive grows it (the vm.max_map_count failure mode)."""
    import gc

    monkeypatch.setattr(cc, "FREE_AFTER_EVICTIONS", 8)
    monkeypatch.setattr(cc, "_evicted", 0)
    cache = cc.ProgramCache(4)
    for k in range(1, 9):
        cache.get(k, lambda k=k: _tiny_program(k))
    gc.collect()
    base = _mappings()
    for k in range(9, 49):
        cache.get(k, lambda k=k: _tiny_program(k))
    gc.collect()
    bounded = _mappings() - base
    assert len(cache) == 4
    kept = [_tiny_program(k) for k in range(49, 89)]
    gc.collect()
    unbounded = _mappings() - base - bounded
    assert len(kept) == 40
    assert unbounded >= 40, unbounded  # each live executable holds mappings of its own
    assert bounded <= unbounded / 3, (bounded, unbounded)


def test_cached_programs_decorator_keys_on_arguments():
    calls = []

    @cc.cached_programs(2)
    def build(a, *, b=0):
        calls.append((a, b))
        return (a, b)

    assert build(1) == (1, 0) and build(1) == (1, 0) and build(1, b=2) == (1, 2)
    build(3)  # drops (1,), the least recently used
    build(1)
    assert calls == [(1, 0), (1, 2), (3, 0), (1, 0)]
    assert len(build.cache) == 2
