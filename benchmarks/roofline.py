"""This machine's dense float32 matmul throughput: the roofline the benchmarks compare with."""

import time


def matmul_gflops(n=2048, repeats=20):
    """Measured dense float32 matmul throughput (GFLOP/s) on this machine."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    f = tf.function(lambda a, b: tf.matmul(a, b))
    f(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        c = f(a, b)
    c.numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9
