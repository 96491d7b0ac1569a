"""City vital signs (城市体征): indicators, sensors, readings, graded warnings (policies floor, beside dispatch)."""
