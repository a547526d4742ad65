# Coverage curves of bench/sim/sim_bench, drawn by bench/run_sim.sh.
#   gnuplot -e "dir='DATA'; nodes='100 250 500'; out='sim-convergence.png'" bench/sim/plot.gp
# DATA holds curve-<N>-<scenario>.dat (round, fraction) and bound-<N>.dat (two points at
# x = log4 N), written by run_sim.sh from sim_bench's --curves output.
set terminal pngcairo size 1500,1100 font "DejaVu Sans,11" linewidth 1.5
set output out
set multiplot layout 2,2 title "libmemberlist in core/sim: share of nodes that have the news, by gossip round (1 round = GossipInterval = 200 ms; LAN preset, GossipNodes = 3)\ndashed verticals: the epidemic bound log_4(N) = log_{GossipNodes+1}(N) rounds, in the colour of each N" font ",12"
set grid
# distinct, readable colours for up to 8 sizes
colours = "#9400d3 #009e73 #56b4e9 #e69f00 #c00000 #000000 #8b4513 #808080"
do for [i=1:8] { set linetype i linecolor rgb word(colours, i) }
set key bottom right opaque title "N"
set yrange [0:1.02]
set ylabel "fraction of nodes"
set ytics ("0%%" 0, "25%%" 0.25, "50%%" 0.5, "75%%" 0.75, "100%%" 1)
set xlabel "gossip rounds since the event"
f(n, s) = sprintf("%s/curve-%s-%s.dat", dir, n, s)
b(n) = sprintf("%s/bound-%s.dat", dir, n)

set title "join: all N start at once and join through node 0;\nnode sees all N alive (bandwidth-bound: N alive rumors in flight)"
set logscale x 2
set xrange [0.5:*]
plot for [i=1:words(nodes)] f(word(nodes, i), "join") using ($1 > 0.5 ? $1 : 0.5):2 with steps lc i lw 2 title word(nodes, i), \
     for [i=1:words(nodes)] b(word(nodes, i)) using 1:2 with lines lc i dt 2 notitle
unset logscale x

set offsets 0, graph 0.04, 0, 0  # keep the largest bound off the right border
set title "rumor: one node's UpdateNode (new incarnation + metadata);\nnode has it (the plain epidemic)"
set xrange [0:*]
plot for [i=1:words(nodes)] f(word(nodes, i), "rumor") using 1:2 with steps lc i lw 2 title word(nodes, i), \
     for [i=1:words(nodes)] b(word(nodes, i)) using 1:2 with lines lc i dt 2 notitle

set title "failure: rounds after the FIRST node declared the crashed node dead;\nsurvivor marks it dead (dissemination of the dead message)"
plot for [i=1:words(nodes)] f(word(nodes, i), "dead_from_first") using 1:2 with steps lc i lw 2 title word(nodes, i), \
     for [i=1:words(nodes)] b(word(nodes, i)) using 1:2 with lines lc i dt 2 notitle

set offsets 0, 0, 0, 0
set title "failure, from the crash: suspects it (dashed), marks it dead (solid); colours as above\nprobe hit + suspicion timeout (>= 4 log10 N probe periods) + final check + spread"
set xlabel "gossip rounds since the crash (5 rounds = 1 probe period)"
unset key  # colours as in the other panels
plot for [i=1:words(nodes)] f(word(nodes, i), "suspect") using 1:2 with steps lc i lw 1.5 dt 2 notitle, \
     for [i=1:words(nodes)] f(word(nodes, i), "dead") using 1:2 with steps lc i lw 2 title word(nodes, i)
unset multiplot
