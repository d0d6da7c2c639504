/* 电子监察看板的图表：把页面内嵌 JSON（#supervision-chart-data）中的数字画成 ECharts 图（SVG 渲染）。
 * The tables on the page carry the same figures; without JavaScript (or without ECharts) the figures
 * stay hidden and nothing is lost. Each chart element already has role="img" and an aria-label. */
(function () {
  "use strict";

  var COLORS = { onTime: "#1d5fa8", good: "#13653a", yellow: "#b07800", red: "#a4161a", status: "#39608f" };
  var TEXT = { color: "#1f2937", fontFamily: "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif" };

  function categoryAxis(names) {
    return { type: "category", data: names, inverse: true, axisTick: { show: false },
             axisLabel: { color: TEXT.color, width: 120, overflow: "truncate" } };
  }

  function percentLabel(params) {
    return params.value === null || params.value === undefined ? "" : params.value + "%";
  }

  var BUILDERS = {
    status: function (data) {
      if (!data.status.names.length) return null;
      return {
        grid: { left: 8, right: 48, top: 8, bottom: 8 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: categoryAxis(data.status.names),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        series: [{ name: "办件数", type: "bar", data: data.status.counts, itemStyle: { color: COLORS.status },
                   label: { show: true, position: "right", color: TEXT.color } }]
      };
    },
    rates: function (data) {
      if (!data.units.names.length) return null;
      return {
        legend: { top: 0, textStyle: { color: TEXT.color } },
        grid: { left: 8, right: 56, top: 36, bottom: 8 },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        yAxis: categoryAxis(data.units.names),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) {
          return v === null || v === undefined ? "无数据" : v + "%";
        } },
        series: [
          { name: "按时办结率", type: "bar", data: data.units.on_time, itemStyle: { color: COLORS.onTime },
            label: { show: true, position: "right", formatter: percentLabel, color: TEXT.color } },
          { name: "好评率", type: "bar", data: data.units.good, itemStyle: { color: COLORS.good },
            label: { show: true, position: "right", formatter: percentLabel, color: TEXT.color } }
        ]
      };
    },
    signals: function (data) {
      if (!data.units.names.length) return null;
      return {
        legend: { top: 0, textStyle: { color: TEXT.color } },
        grid: { left: 8, right: 32, top: 36, bottom: 8 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: categoryAxis(data.units.names),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        series: [
          { name: "逾期（红牌）", type: "bar", stack: "signals", data: data.units.red, itemStyle: { color: COLORS.red } },
          { name: "预警（黄牌）", type: "bar", stack: "signals", data: data.units.yellow,
            itemStyle: { color: COLORS.yellow } }
        ]
      };
    }
  };

  // 办件结果比对 (the performance page): each row's figures beside the compared period's
  function compared(data, now, before, name, percent) {
    if (!data.compare || !data.compare.names.length) return null;
    var series = [{ name: name + "（本期）", type: "bar", data: data.compare[now], itemStyle: { color: COLORS.onTime },
                    label: { show: true, position: "right", formatter: percent ? percentLabel : undefined,
                             color: TEXT.color } }];
    if (data.compare[before]) {
      series.push({ name: name + "（对比期）", type: "bar", data: data.compare[before],
                    itemStyle: { color: COLORS.status, opacity: 0.55 } });
    }
    return {
      legend: { top: 0, textStyle: { color: TEXT.color } },
      grid: { left: 8, right: 56, top: 36, bottom: 8 },
      xAxis: percent ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
                     : { type: "value", minInterval: 1 },
      yAxis: categoryAxis(data.compare.names),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: series
    };
  }
  BUILDERS.compare = function (data) { return compared(data, "decided", "decided_before", "办结", false); };
  BUILDERS.compare_rates = function (data) {
    return compared(data, "on_time", "on_time_before", "按时办结率", true);
  };

  function rowsOf(kind, data) {
    if (kind === "compare" || kind === "compare_rates") {
      return data.compare.names.length * (data.compare.decided_before ? 2 : 1);
    }
    return kind === "status" ? data.status.names.length : data.units.names.length * (kind === "rates" ? 2 : 1);
  }

  function draw() {
    var source = document.getElementById("supervision-chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var build = BUILDERS[element.getAttribute("data-chart")];
      var option = build && build(data);
      if (!option) return;
      option.textStyle = TEXT;
      option.animation = false;
      var figure = element.closest("[data-chart-figure]");
      if (figure) figure.hidden = false;
      element.style.height = Math.max(180, 60 + rowsOf(element.getAttribute("data-chart"), data) * 26) + "px";
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
