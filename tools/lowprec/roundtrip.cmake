# quantize --out, then dequantize back to .npy and .safetensors, then read those again
# (used by tools/CMakeLists.txt: -DTOOL=<exe> -DDATA=<testdata dir> -DWORK=<dir>).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
function(run expect_regex)
  execute_process(COMMAND "${TOOL}" ${ARGN} WORKING_DIRECTORY "${WORK}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "${expect_regex}")
    message(FATAL_ERROR "lowprec ${ARGN}: exit ${rc}, expected output matching "
                        "'${expect_regex}'\n--- stdout ---\n${out}\n--- stderr ---\n${err}")
  endif()
endfunction()

# One array: int8 blocks of 32, back to .npy; quantizing that again gives the same codes,
# and the dequantized values are quantized exactly (no error at all).
run("wrote a\\.lpq" quantize "${DATA}/small_f32.npy" --scheme int8 --block 32 --out a.lpq)
run("array +int8 +float32 +\\[8,16\\] +32 +9\\.000.*wrote a\\.npy" dequantize a.lpq --out a.npy)
run("array +float32 +\\[8,16\\] +9\\.000 +0\\.0000e\\+00 +0\\.0000e\\+00 +inf" quantize a.npy --scheme int8 --block 32)
# Several tensors of three dtypes: every scheme, back to .safetensors, read again.
foreach(scheme int8 int4 nf4 fp8_e4m3fn fp8_e5m2 uint8 uint4)
  run("wrote s\\.lpq" quantize "${DATA}/small.safetensors" --scheme ${scheme} --out s.lpq)
  run("w_bf16 +${scheme} +bfloat16.*w_f32 +${scheme} +float32.*wrote s\\.safetensors"
      dequantize s.lpq --out s.safetensors)
  run("w_bf16 +float32 .*w_f16 +float32 .*w_f32 +float32 " quantize s.safetensors --scheme int8)
endforeach()
# nf4 with double-quantized scales: fewer bits, same codes.
run("total +4\\.806 .*wrote d\\.lpq" quantize "${DATA}/small.safetensors" --scheme nf4 --double-quant --out d.lpq)
run("w_f32 +nf4 +float32 +\\[4,32\\] +64 +4\\.625.*wrote d\\.safetensors" dequantize d.lpq --out d.safetensors)
# An LPQ file written independently (testdata/make_testdata.py) reads back exactly.
run("x +int8 +float32 +\\[2,4\\] +4 " dequantize "${DATA}/valid.lpq" --out v.npy)
run("array +float32 +\\[2,4\\] " quantize v.npy --scheme int8 --block 4)
