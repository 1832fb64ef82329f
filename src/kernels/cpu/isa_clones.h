#pragma once
// TG_ISA_CLONES before a function compiles it once per ISA (AVX-512, AVX2, baseline x86-64) with GCC's
// target_clones; the dynamic loader picks one by CPUID when the library loads. So the library stays baseline
// x86-64 and a loop still uses the wide registers where the machine has them. Only for loops whose result is
// the same bits in every clone (no FMA contraction, no reassociation).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__gnu_linux__)
#define TG_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TG_ISA_CLONES
#endif
