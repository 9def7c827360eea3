import { useEffect, useRef } from 'react';
import * as echarts from 'echarts';

export type ChartOption = echarts.EChartsOption;

interface EChartProps {
  option: ChartOption;
  /** Called with the clicked item's name and series (cross-filtering). */
  onClick?: (params: { name: string; seriesName?: string; dataIndex: number; value: unknown }) => void;
  height?: number;
  className?: string;
  /** Receives the chart instance, e.g. for PNG export. */
  onReady?: (chart: echarts.ECharts) => void;
  ariaLabel?: string;
}

/** A React wrapper around one ECharts instance: created once, options replaced, disposed on unmount. */
export function EChart({ option, onClick, height = 260, className, onReady, ariaLabel }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, undefined, { renderer: 'canvas' });
    chart.current = instance;
    instance.on('click', (params) => clickRef.current?.(params as never));
    onReady?.(instance);
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={element} className={className} style={{ height, width: '100%' }} role="img" aria-label={ariaLabel} />;
}
