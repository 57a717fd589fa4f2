"""A cache hint for the compiled loops: start loading an array element's cache line before it is read.

On a year of 1-minute candles the compiled loop waits on memory more than it computes: each trade reads
a handful of arrays at a candle far from the previous trade's, and those cache misses queue one behind
the other. ``prefetch`` asks the CPU to start loading a line early, so the misses overlap. It is only a
hint (LLVM's ``llvm.prefetch``, a read into all cache levels): no value changes and it cannot fault.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """numba's typing of a call (void, over the array's and the index's types) and the code it emits."""
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]],  # type: ignore[no-untyped-call]
                                           wraparound=False)
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        kind_of_hint = ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32])
        hint = cgutils.get_or_insert_function(builder.module, kind_of_hint,  # type: ignore[no-untyped-call]
                                              "llvm.prefetch.p0i8")
        # read (0), keep in every cache level (3), data cache (1)
        builder.call(hint, [builder.bitcast(pointer, byte), ir.Constant(i32, 0), ir.Constant(i32, 3),
                            ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


prefetch: Any = intrinsic(_prefetch)
"""``prefetch(array, index)``: start loading the cache line of ``array[index]`` (compiled code only;
``index`` within the array)."""
