"""Layer 2: Chinese working time (调休 included) and the plan's deadlines."""
