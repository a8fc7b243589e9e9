# Node, process and RPC benchmarks against BEAM (scripts/bench_node.sh runs them). Included at
# the end of bench/CMakeLists.txt; needs no Google Benchmark, only erl at run time.
add_executable(node_bench ${CMAKE_CURRENT_LIST_DIR}/node_bench.cpp)
target_link_libraries(node_bench PRIVATE edist Threads::Threads)
target_compile_options(node_bench PRIVATE -Wall -Wextra)
