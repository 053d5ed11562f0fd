import { onnx } from 'onnx-proto';

/** ONNX element types used by the builders (values of `TensorProto.DataType`). */
export const OnnxDataType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  INT64: onnx.TensorProto.DataType.INT64,
} as const;

/** A dense float32 initializer (a weight or bias) stored as raw little-endian bytes. */
export function floatInitializer(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: OnnxDataType.FLOAT, rawData: raw };
}

/** An int64 initializer, e.g. a Reshape target shape. */
export function int64Initializer(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: OnnxDataType.INT64, int64Data: values };
}

/** A tensor input or output description; a string dimension is symbolic (e.g. `batch`). */
export function tensorValueInfo(name: string, elemType: number, shape: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

export interface GraphDefinition {
  readonly name: string;
  readonly nodes: onnx.INodeProto[];
  readonly initializers: onnx.ITensorProto[];
  readonly inputs: onnx.IValueInfoProto[];
  readonly outputs: onnx.IValueInfoProto[];
  /** @default 13 */
  readonly opsetVersion?: number;
}

/** Serializes a graph into the bytes of a `.onnx` file. */
export function encodeModel(graph: GraphDefinition): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'modelsweep',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: graph.opsetVersion ?? 13 }],
    graph: {
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs,
      output: graph.outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
