# Written by sgxemu bench; run in this directory.
set datafile missing 'NaN'
set key top left
set grid
set logscale x 2
set logscale y
set terminal svg size 900,560 dynamic enhanced font 'sans,12'
set output 'latency.svg'
set title 'RESTRICT\_PERMISSIONS latency, 64 CPUs, 63 enclave threads, cost typical'
set format x '2^{%L}'
set xlabel 'pages in the range'
set ylabel 'cycles'
plot 'latency.dat' using 1:2 with linespoints title 'batched: one ETRACK per call', 'latency.dat' using 1:3 with linespoints title 'per page (Linux 6.12)', 'latency.dat' using 1:4 with lines dt 2 lw 2 title 'limit'
set terminal pngcairo size 900,560 enhanced font 'sans,11'
set output 'latency.png'
set title 'RESTRICT\_PERMISSIONS latency, 64 CPUs, 63 enclave threads, cost typical'
set format x '2^{%L}'
set xlabel 'pages in the range'
set ylabel 'cycles'
plot 'latency.dat' using 1:2 with linespoints title 'batched: one ETRACK per call', 'latency.dat' using 1:3 with linespoints title 'per page (Linux 6.12)', 'latency.dat' using 1:4 with lines dt 2 lw 2 title 'limit'
set terminal svg size 900,560 dynamic enhanced font 'sans,12'
set output 'disruption.svg'
set title 'AEXs inflicted on 63 enclave threads by one call'
set format x '2^{%L}'
set xlabel 'pages in the range'
set ylabel 'AEXs'
plot 'disruption.dat' using 1:2 with linespoints title 'batched: one ETRACK per call', 'disruption.dat' using 1:3 with linespoints title 'per page (Linux 6.12)'
set terminal pngcairo size 900,560 enhanced font 'sans,11'
set output 'disruption.png'
set title 'AEXs inflicted on 63 enclave threads by one call'
set format x '2^{%L}'
set xlabel 'pages in the range'
set ylabel 'AEXs'
plot 'disruption.dat' using 1:2 with linespoints title 'batched: one ETRACK per call', 'disruption.dat' using 1:3 with linespoints title 'per page (Linux 6.12)'
set logscale x 2
set terminal svg size 900,560 dynamic enhanced font 'sans,12'
set output 'speedup.svg'
set title 'Speed-up of batched: one ETRACK per call over per page, cost typical'
set format x '%g'
set xlabel 'simulated CPUs (an enclave thread on each but the caller)'
set ylabel 'per-page latency / batched latency'
unset logscale y
plot 'speedup.dat' using 1:2 with linespoints title 'N = 1', 'speedup.dat' using 1:3 with linespoints title 'N = 16', 'speedup.dat' using 1:4 with linespoints title 'N = 256', 'speedup.dat' using 1:5 with linespoints title 'N = 4096', 'speedup.dat' using 1:6 with linespoints title 'N = 65536', 'speedup.dat' using 1:7 with linespoints title 'N = 1048576'
set logscale y
set terminal pngcairo size 900,560 enhanced font 'sans,11'
set output 'speedup.png'
set title 'Speed-up of batched: one ETRACK per call over per page, cost typical'
set format x '%g'
set xlabel 'simulated CPUs (an enclave thread on each but the caller)'
set ylabel 'per-page latency / batched latency'
unset logscale y
plot 'speedup.dat' using 1:2 with linespoints title 'N = 1', 'speedup.dat' using 1:3 with linespoints title 'N = 16', 'speedup.dat' using 1:4 with linespoints title 'N = 256', 'speedup.dat' using 1:5 with linespoints title 'N = 4096', 'speedup.dat' using 1:6 with linespoints title 'N = 65536', 'speedup.dat' using 1:7 with linespoints title 'N = 1048576'
set logscale y
