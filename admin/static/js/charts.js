// Draws each [data-chart] element of the dashboard with Apache ECharts. The numbers are also in the
// table under each chart, so the page reads the same without JavaScript or with a screen reader.
(function () {
  'use strict';
  if (!window.echarts) { return; }
  var escape = window.echarts.format.encodeHTML;  // labels are typed in by staff (matters, units): never markup

  function tip(p) {
    return escape(p.name) + ': ' + p.value + (p.percent !== undefined ? ' (' + p.percent + '%)' : '');
  }

  function bars(items, percent) {
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) {
        return escape(ps[0].name) + ': ' + (ps[0].value === null ? '—' : ps[0].value) + (percent ? '%' : ''); } },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', max: percent ? 100 : null, minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: items.map(function (i) { return i[0]; }),
               axisLabel: { width: 110, overflow: 'truncate' } },
      series: [{ type: 'bar', data: items.map(function (i) { return i[1]; }), barMaxWidth: 22,
                 label: { show: true, position: 'right', formatter: percent ? '{c}%' : '{c}' } }]
    };
  }

  // a phone-wide chart: its legend lists one item a line below the pie (never a cut-off scrolling
  // strip), and the chart grows by those lines
  var LEGEND_LINE = 22, PIE_HEIGHT = 200;

  function pie(items, element) {
    var data = items.filter(function (i) { return i[1] > 0; })
                    .map(function (i) { return { name: i[0], value: i[1] }; });
    var narrow = element.clientWidth < 480;
    if (!narrow) {
      return {
        tooltip: { trigger: 'item', formatter: tip },
        legend: { type: 'scroll', bottom: 0 },
        series: [{ type: 'pie', radius: ['38%', '64%'], center: ['50%', '44%'], data: data,
                   label: { formatter: '{c}' }, avoidLabelOverlap: true }]
      };
    }
    var lines = Math.max(1, data.length);  // one item a line: each label whole
    element.style.height = (PIE_HEIGHT + lines * LEGEND_LINE + 8) + 'px';
    return {
      tooltip: { trigger: 'item', formatter: tip },
      legend: { type: 'plain', orient: 'vertical', top: PIE_HEIGHT, left: 4, itemGap: 6, itemWidth: 14,
                textStyle: { fontSize: 12, width: element.clientWidth - 40, overflow: 'break' } },
      series: [{ type: 'pie', radius: ['30%', '52%'], center: ['50%', PIE_HEIGHT / 2], data: data,
                 label: { formatter: '{c}' }, avoidLabelOverlap: true }]
    };
  }

  function funnel(items) {
    return {
      tooltip: { trigger: 'item', formatter: tip },
      series: [{ type: 'funnel', sort: 'none', left: '10%', width: '80%', top: 8, bottom: 8, minSize: '8%',
                 data: items.map(function (i) { return { name: i[0], value: i[1] }; }),
                 label: { position: 'inside', formatter: '{b} {c}' } }]
    };
  }

  var charts = [];
  document.querySelectorAll('[data-chart]').forEach(function (element) {
    var spec = JSON.parse(element.getAttribute('data-chart'));
    var option = spec.type === 'pie' ? pie(spec.items, element)
      : spec.type === 'funnel' ? funnel(spec.items)
      : bars(spec.items, spec.type === 'percent');
    var chart = window.echarts.init(element, null, { renderer: 'svg' });
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
