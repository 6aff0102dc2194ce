"""Low-discrepancy designs in the unit cube, written out: a scrambled Sobol sequence and Latin hypercubes.

Sobol (Bratley & Fox 1988; direction numbers of Joe & Kuo 2008, file new-joe-kuo-6.21201): point i of
dimension j is x_ij = XOR_k g_k(i) v_jk with g(i) = i XOR (i >> 1) the Gray code of i (scipy's order)
and v_jk = m_jk / 2^k the direction numbers. Scrambling: a random lower-triangular binary matrix
multiplies each dimension's generator matrix, then a random digital shift is XOR-ed in (Matousek 1998,
as in scipy.stats.qmc.Sobol); both keep the (t, m, s)-net property, so any 2^m consecutive points
starting at a multiple of 2^m put exactly one point in every dyadic interval of length 2^-m of every
dimension.

Latin hypercube (McKay, Beckman & Conover 1979): n points such that each of the n equal strata of
every dimension holds exactly one point, u_ij = (pi_j(i) + U_ij) / n with pi_j a random permutation.
"""

import numpy as np

BITS = 32  # digits of each Sobol coordinate: points u = x / 2^32, up to 2^32 points

# (primitive polynomial, initial m_1..m_s) of dimensions 2..128 (dimension 1 is van der Corput, all m_k = 1).
# The polynomial's bits, highest first, are 1, a_1, ..., a_{s-1}, 1 for degree s.
_JOE_KUO = (
    (3, (1,)), (7, (1, 3)), (11, (1, 3, 1)), (13, (1, 1, 1)), (19, (1, 1, 3, 3)), (25, (1, 3, 5, 13)),
    (37, (1, 1, 5, 5, 17)), (41, (1, 1, 5, 5, 5)), (47, (1, 1, 7, 11, 19)), (55, (1, 1, 5, 1, 1)),
    (59, (1, 1, 1, 3, 11)), (61, (1, 3, 5, 5, 31)), (67, (1, 3, 3, 9, 7, 49)), (91, (1, 1, 1, 15, 21, 21)),
    (97, (1, 3, 1, 13, 27, 49)), (103, (1, 1, 1, 15, 7, 5)), (109, (1, 3, 1, 15, 13, 25)),
    (115, (1, 1, 5, 5, 19, 61)), (131, (1, 3, 7, 11, 23, 15, 103)), (137, (1, 3, 7, 13, 13, 15, 69)),
    (143, (1, 1, 3, 13, 7, 35, 63)), (145, (1, 3, 5, 9, 1, 25, 53)), (157, (1, 3, 1, 13, 9, 35, 107)),
    (167, (1, 3, 1, 5, 27, 61, 31)), (171, (1, 1, 5, 11, 19, 41, 61)), (185, (1, 3, 5, 3, 3, 13, 69)),
    (191, (1, 1, 7, 13, 1, 19, 1)), (193, (1, 3, 7, 5, 13, 19, 59)), (203, (1, 1, 3, 9, 25, 29, 41)),
    (211, (1, 3, 5, 13, 23, 1, 55)), (213, (1, 3, 7, 3, 13, 59, 17)), (229, (1, 3, 1, 3, 5, 53, 69)),
    (239, (1, 1, 5, 5, 23, 33, 13)), (241, (1, 1, 7, 7, 1, 61, 123)), (247, (1, 1, 7, 9, 13, 61, 49)),
    (253, (1, 3, 3, 5, 3, 55, 33)), (285, (1, 3, 1, 15, 31, 13, 49, 245)), (299, (1, 3, 5, 15, 31, 59, 63, 97)),
    (301, (1, 3, 1, 11, 11, 11, 77, 249)), (333, (1, 3, 1, 11, 27, 43, 71, 9)),
    (351, (1, 1, 7, 15, 21, 11, 81, 45)), (355, (1, 3, 7, 3, 25, 31, 65, 79)), (357, (1, 3, 1, 1, 19, 11, 3, 205)),
    (361, (1, 1, 5, 9, 19, 21, 29, 157)), (369, (1, 3, 7, 11, 1, 33, 89, 185)), (391, (1, 3, 3, 3, 15, 9, 79, 71)),
    (397, (1, 3, 7, 11, 15, 39, 119, 27)), (425, (1, 1, 3, 1, 11, 31, 97, 225)),
    (451, (1, 1, 1, 3, 23, 43, 57, 177)), (463, (1, 3, 7, 7, 17, 17, 37, 71)),
    (487, (1, 3, 1, 5, 27, 63, 123, 213)), (501, (1, 1, 3, 5, 11, 43, 53, 133)),
    (529, (1, 3, 5, 5, 29, 17, 47, 173, 479)), (539, (1, 3, 3, 11, 3, 1, 109, 9, 69)),
    (545, (1, 1, 1, 5, 17, 39, 23, 5, 343)), (557, (1, 3, 1, 5, 25, 15, 31, 103, 499)),
    (563, (1, 1, 1, 11, 11, 17, 63, 105, 183)), (601, (1, 1, 5, 11, 9, 29, 97, 231, 363)),
    (607, (1, 1, 5, 15, 19, 45, 41, 7, 383)), (617, (1, 3, 7, 7, 31, 19, 83, 137, 221)),
    (623, (1, 1, 1, 3, 23, 15, 111, 223, 83)), (631, (1, 1, 5, 13, 31, 15, 55, 25, 161)),
    (637, (1, 1, 3, 13, 25, 47, 39, 87, 257)), (647, (1, 1, 1, 11, 21, 53, 125, 249, 293)),
    (661, (1, 1, 7, 11, 11, 7, 57, 79, 323)), (675, (1, 1, 5, 5, 17, 13, 81, 3, 131)),
    (677, (1, 1, 7, 13, 23, 7, 65, 251, 475)), (687, (1, 3, 5, 1, 9, 43, 3, 149, 11)),
    (695, (1, 1, 3, 13, 31, 13, 13, 255, 487)), (701, (1, 3, 3, 1, 5, 63, 89, 91, 127)),
    (719, (1, 1, 3, 3, 1, 19, 123, 127, 237)), (721, (1, 1, 5, 7, 23, 31, 37, 243, 289)),
    (731, (1, 1, 5, 11, 17, 53, 117, 183, 491)), (757, (1, 1, 1, 5, 1, 13, 13, 209, 345)),
    (761, (1, 1, 3, 15, 1, 57, 115, 7, 33)), (787, (1, 3, 1, 11, 7, 43, 81, 207, 175)),
    (789, (1, 3, 1, 1, 15, 27, 63, 255, 49)), (799, (1, 3, 5, 3, 27, 61, 105, 171, 305)),
    (803, (1, 1, 5, 3, 1, 3, 57, 249, 149)), (817, (1, 1, 3, 5, 5, 57, 15, 13, 159)),
    (827, (1, 1, 1, 11, 7, 11, 105, 141, 225)), (847, (1, 3, 3, 5, 27, 59, 121, 101, 271)),
    (859, (1, 3, 5, 9, 11, 49, 51, 59, 115)), (865, (1, 1, 7, 1, 23, 45, 125, 71, 419)),
    (875, (1, 1, 3, 5, 23, 5, 105, 109, 75)), (877, (1, 1, 7, 15, 7, 11, 67, 121, 453)),
    (883, (1, 3, 7, 3, 9, 13, 31, 27, 449)), (895, (1, 3, 1, 15, 19, 39, 39, 89, 15)),
    (901, (1, 1, 1, 1, 1, 33, 73, 145, 379)), (911, (1, 3, 1, 15, 15, 43, 29, 13, 483)),
    (949, (1, 1, 7, 3, 19, 27, 85, 131, 431)), (953, (1, 3, 3, 3, 5, 35, 23, 195, 349)),
    (967, (1, 3, 3, 7, 9, 27, 39, 59, 297)), (971, (1, 1, 3, 9, 11, 17, 13, 241, 157)),
    (973, (1, 3, 7, 15, 25, 57, 33, 189, 213)), (981, (1, 1, 7, 1, 9, 55, 73, 83, 217)),
    (985, (1, 3, 3, 13, 19, 27, 23, 113, 249)), (995, (1, 3, 5, 3, 23, 43, 3, 253, 479)),
    (1001, (1, 1, 5, 5, 11, 5, 45, 117, 217)), (1019, (1, 3, 3, 7, 29, 37, 33, 123, 147)),
    (1033, (1, 3, 1, 15, 5, 5, 37, 227, 223, 459)), (1051, (1, 1, 7, 5, 5, 39, 63, 255, 135, 487)),
    (1063, (1, 3, 1, 7, 9, 7, 87, 249, 217, 599)), (1069, (1, 1, 3, 13, 9, 47, 7, 225, 363, 247)),
    (1125, (1, 3, 7, 13, 19, 13, 9, 67, 9, 737)), (1135, (1, 3, 5, 5, 19, 59, 7, 41, 319, 677)),
    (1153, (1, 1, 5, 3, 31, 63, 15, 43, 207, 789)), (1163, (1, 1, 7, 9, 13, 39, 3, 47, 497, 169)),
    (1221, (1, 3, 1, 7, 21, 17, 97, 19, 415, 905)), (1239, (1, 3, 7, 1, 3, 31, 71, 111, 165, 127)),
    (1255, (1, 1, 5, 11, 1, 61, 83, 119, 203, 847)), (1267, (1, 3, 3, 13, 9, 61, 19, 97, 47, 35)),
    (1279, (1, 1, 7, 7, 15, 29, 63, 95, 417, 469)), (1293, (1, 3, 1, 9, 25, 9, 71, 57, 213, 385)),
    (1305, (1, 3, 5, 13, 31, 47, 101, 57, 39, 341)), (1315, (1, 1, 3, 3, 31, 57, 125, 173, 365, 551)),
    (1329, (1, 3, 7, 1, 13, 57, 67, 157, 451, 707)), (1341, (1, 1, 1, 7, 21, 13, 105, 89, 429, 965)),
    (1347, (1, 1, 5, 9, 17, 51, 45, 119, 157, 141)), (1367, (1, 3, 7, 7, 13, 45, 91, 9, 129, 741)),
    (1387, (1, 3, 7, 1, 23, 57, 67, 141, 151, 571)), (1413, (1, 1, 3, 11, 17, 47, 93, 107, 375, 157)),
    (1423, (1, 3, 3, 5, 11, 21, 43, 51, 169, 915)), (1431, (1, 1, 5, 3, 15, 55, 101, 67, 455, 625)),
    (1441, (1, 3, 5, 9, 1, 23, 29, 47, 345, 595)), (1479, (1, 3, 7, 7, 5, 49, 29, 155, 323, 589)),
    (1509, (1, 3, 3, 7, 5, 41, 127, 61, 261, 717)),)
MAX_SOBOL_DIMENSIONS = len(_JOE_KUO) + 1


def sobol_directions(d):
    """V[j, k-1] = m_jk * 2^(BITS - k), the direction integers of dimensions j < d; (d, BITS) uint64.

    m_k = m_{k-s} XOR (m_{k-s} << s) XOR sum_{l=1}^{s-1} a_l m_{k-l} << l   (Bratley & Fox, eq. 2).
    """
    if not 1 <= d <= MAX_SOBOL_DIMENSIONS:
        raise ValueError(
            f"the Sobol sequence here has up to {MAX_SOBOL_DIMENSIONS} dimensions; the space has {d}. "
            "Use sampler='lhs' or sampler='uniform'."
        )
    V = np.zeros((d, BITS), dtype=np.uint64)
    V[0] = [1 << (BITS - k) for k in range(1, BITS + 1)]
    for j in range(1, d):
        poly, m_init = _JOE_KUO[j - 1]
        s = poly.bit_length() - 1
        a = (poly >> 1) & ((1 << (s - 1)) - 1)
        m = list(m_init)
        for k in range(s, BITS):
            m_k = m[k - s] ^ (m[k - s] << s)
            for l in range(1, s):
                if (a >> (s - 1 - l)) & 1:
                    m_k ^= m[k - l] << l
            m.append(m_k)
        V[j] = [m[k - 1] << (BITS - k) for k in range(1, BITS + 1)]
    return V


def scramble(V, rng):
    """Linear matrix scrambling and a digital shift: returns (L V mod 2, shift), shapes (d, BITS) and (d,).

    L_j is lower triangular in the digits (most significant first) with a unit diagonal, so digit r of
    a scrambled coordinate is digit r of the plain one XOR a random combination of the digits before it.
    """
    d = V.shape[0]
    below = np.tril(rng.integers(0, 2, size=(d, BITS, BITS), dtype=np.uint64), k=-1)  # (d, r, q), q < r
    L = below + np.eye(BITS, dtype=np.uint64)[None]
    weights = np.array([1 << (BITS - 1 - q) for q in range(BITS)], dtype=np.uint64)  # digit q -> bit value
    rows = (L * weights).sum(axis=2).astype(np.uint64)  # (d, BITS): row r of L_j as a bit mask
    V_scrambled = np.zeros_like(V)
    for r in range(BITS):
        digit = np.bitwise_count(rows[:, r, None] & V) & np.uint64(1)  # (d, BITS): parity of row r . column k
        V_scrambled |= digit << np.uint64(BITS - 1 - r)
    shift = rng.integers(0, 1 << BITS, size=d, dtype=np.uint64)
    return V_scrambled, shift


def sobol_points(V, shift, start, n):
    """Points start, ..., start+n-1 of the (scrambled) Sobol sequence; (n, d) float64 in [0, 1)."""
    if start < 0 or start + n > (1 << BITS):
        raise ValueError(f"Sobol point indices must lie in [0, 2^{BITS}); got {start}..{start + n - 1}.")
    i = np.arange(start, start + n, dtype=np.uint64)
    gray = i ^ (i >> np.uint64(1))
    x = np.zeros((n, V.shape[0]), dtype=np.uint64)
    for k in range(int(gray.max()).bit_length() if n else 0):
        bit = (gray >> np.uint64(k)) & np.uint64(1)  # (n,)
        x ^= bit[:, None] * V[None, :, k]
    x ^= shift[None, :]
    return x.astype(np.float64) * 2.0 ** -BITS


def latin_hypercube(rng, n, d):
    """n points in [0, 1)^d with one point in each of the n strata [i/n, (i+1)/n) of every dimension; (n, d)."""
    strata = np.argsort(rng.random((d, n)), axis=1).T  # (n, d): column j is a random permutation of 0..n-1
    return (strata + rng.random((n, d))) / n
