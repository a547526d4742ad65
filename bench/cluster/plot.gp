# Plots of bench/run_cluster.sh, drawn by bench/cluster/report.py:
#   gnuplot -e "dir='DATA'; outdir='docs/bench'" bench/cluster/plot.gp
# DATA/<impl>.dat: N, then median min max of CPU s/node/min, RSS KB/node, all-alive s, detect s.
# DATA/ceiling.dat: index "label" largest-N-held did-not-fail(0/1).
set terminal pngcairo size 1500,1050 font "DejaVu Sans,11" linewidth 1.5
set output outdir."/cluster-per-node.png"
impls = "ours real c pool"
names = "'ours (Go package, a thread per node)' 'hashicorp/memberlist v0.7.0' 'ours (C API, one shared runtime)' 'ours (Go package, shared runtimes)'"
colours = "#0072b2 #d55e00 #009e73 #cc79a7"
do for [i=1:4] { set linetype i linecolor rgb word(colours, i) pointtype (4 + 2 * i) pointsize 1.3 }
f(i) = sprintf("%s/%s.dat", dir, word(impls, i))
set multiplot layout 2,2 title "N nodes in one process on one 2-core machine, LAN config; median, bars min–max" font ",13"
set grid
set logscale x 2
set xlabel "N (nodes)"
set key top left
set title "steady-state CPU per node (after the join's broadcasts drained)"
set ylabel "CPU seconds per node per minute"
plot for [i=1:4] f(i) using 1:2:3:4 with yerrorlines lt i title word(names, i)
set title "resident memory per node (process RSS growth / N)"
set ylabel "KB per node"
plot for [i=1:4] f(i) using 1:5:6:7 with yerrorlines lt i title word(names, i)
set title "from the first Create until every node sees N alive"
set ylabel "seconds"
set logscale y 10
plot for [i=1:4] f(i) using 1:8:9:10 with yerrorlines lt i title word(names, i)
unset logscale y
set title "one node killed: until every survivor has dropped it"
set ylabel "seconds"
plot for [i=1:4] f(i) using 1:11:12:13 with yerrorlines lt i title word(names, i)
unset multiplot

set output outdir."/cluster-ceiling.png"
set terminal pngcairo size 900,500 font "DejaVu Sans,11"
unset logscale
set title "scale ceiling: largest N that held with no suspicion or death\n(hatched: did not fail at the largest size tried, so a lower bound)"
set ylabel "N"
set xlabel ""
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set xrange [-0.6:3.6]
unset key
plot dir."/ceiling.dat" using 1:($4 == 0 ? $3 : 1/0):($1 + 1):xtic(2) with boxes lc variable, \
     ''                 using 1:($4 == 1 ? $3 : 1/0):($1 + 1) with boxes lc variable fill pattern 4, \
     ''                 using 1:3:(sprintf("%d", $3)) with labels offset 0,1
